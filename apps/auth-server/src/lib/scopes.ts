/** Every scope this server knows, with what the consent screen says about it. */
export const SCOPES: Record<string, string> = {
  read: 'Read your data and use read-only tools',
  write: 'Create and change your data',
  admin: 'Administer the server: manage settings and other users',
  // OpenID Connect (Core §5.4): who the person is, for apps that sign people in with this server.
  openid: 'Confirm to the app who you are (an identifier that is not your email)',
  profile: 'See your name',
  email: 'See your email address and whether it is verified',
};

export const DEFAULT_SCOPES = ['read'];
