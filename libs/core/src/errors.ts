// Errors a user can act on. A UserError's message is shown without a stack trace by the CLIs: it must say
// what is wrong (file, line, field) and how to fix it. Anything else is a bug and keeps its stack.

export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** Remove every occurrence of the given secret values from a text (for logs, reports, error messages). */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('[REDACTED]');
  }
  return out;
}
