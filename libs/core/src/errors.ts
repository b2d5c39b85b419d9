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

/**
 * The forms a secret takes in a text: as it is, inside a JSON string (quotes, backslashes and control characters
 * escaped), and that with '/' written '\/' (PHP's json_encode and others): a server that echoes a key in its JSON
 * body may use any of them, and the parsed reply holds the key again.
 */
function secretForms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  return [...new Set([secret, json, json.replace(/\//g, '\\/')])];
}

/**
 * Remove every occurrence of the given secret values from a text (for logs, reports, error messages), in each of
 * the forms JSON may write them. Secrets under 4 characters are left: cutting them would cut ordinary text too.
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) for (const form of secretForms(secret)) out = out.split(form).join('[REDACTED]');
  }
  return out;
}
