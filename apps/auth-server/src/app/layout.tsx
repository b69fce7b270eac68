import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import './globals.css';

export const metadata: Metadata = {
  title: 'Portcullis',
  description: 'Sign in and authorize applications',
  robots: { index: false, follow: false },
  referrer: 'same-origin',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="site-header">
          <span className="brand">
            <span aria-hidden="true">▦</span> Portcullis
          </span>
        </header>
        <main className="card">{children}</main>
      </body>
    </html>
  );
}
