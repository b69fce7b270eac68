'use client';

import { signOut } from 'next-auth/react';

export function SignOutButton({ callbackUrl, label }: { callbackUrl: string; label: string }) {
  return (
    <button type="button" className="secondary compact" onClick={() => signOut({ callbackUrl })}>
      {label}
    </button>
  );
}
