import { type NextRequest, NextResponse } from 'next/server';
import { getServer } from '@/lib/authorization-server';
import { describeError, log } from '@/lib/log';

/**
 * The pages that read the store (consent, account) answer 503 while it is out, as the OAuth
 * endpoints do, instead of a page render failing with 500: one cheap read before the page.
 */
export async function proxy(request: NextRequest): Promise<NextResponse> {
  try {
    const { store } = await getServer();
    await store.clients.find('portcullis:health-check');
    return NextResponse.next();
  } catch (error) {
    log('error', 'store unavailable', {
      path: request.nextUrl.pathname,
      error: describeError(error),
    });
    return new NextResponse(
      'The service is temporarily unavailable: it cannot reach its store. Try again shortly.',
      {
        status: 503,
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          'cache-control': 'no-store',
          'retry-after': '5',
        },
      },
    );
  }
}

export const config = { matcher: ['/account', '/consent'] };
