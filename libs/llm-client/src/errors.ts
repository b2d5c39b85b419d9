// The one error type of the client: which call failed (endpoint label and URL), how (HTTP status, timeout,
// connection, malformed body, invalid reply), after how many attempts, with a short body excerpt. A
// UserError, so CLIs print the message without a stack. Messages pass through redactSecrets before they
// are built into the error: the API key never appears in one, even when a server echoes it back.
import { UserError, redactSecrets } from '@lwz/core';

export type LlmErrorKind = 'http' | 'timeout' | 'connection' | 'malformed' | 'aborted' | 'interrupted' | 'invalid-reply';

export interface LlmErrorDetails {
  /** what was called: 'completions', 'chat', 'models', 'stream completions', 'stream chat' */
  endpoint: string;
  kind: LlmErrorKind;
  /** the last HTTP status seen, when there was one */
  status?: number;
  /** HTTP attempts made (1 + retries) */
  attempts: number;
  /** the start of the last response body, whitespace collapsed, secrets removed */
  bodyExcerpt?: string;
  /**
   * false when the last failure is one every try meets alike (a 4xx other than 408 / 409 / 429, a certificate the
   * client refuses), so a caller retrying the call cannot help; true when retries ran out on a failure that can pass
   */
  retryable?: boolean;
}

export class LlmError extends UserError {
  readonly endpoint: string;
  readonly kind: LlmErrorKind;
  readonly status?: number;
  readonly attempts: number;
  readonly bodyExcerpt?: string;
  readonly retryable?: boolean;

  constructor(message: string, details: LlmErrorDetails, secrets: readonly (string | undefined)[] = []) {
    super(redactSecrets(message, secrets));
    this.name = 'LlmError';
    this.endpoint = details.endpoint;
    this.kind = details.kind;
    this.status = details.status;
    this.attempts = details.attempts;
    this.retryable = details.retryable;
    this.bodyExcerpt = details.bodyExcerpt === undefined ? undefined : redactSecrets(details.bodyExcerpt, secrets);
  }
}

export function isLlmError(e: unknown): e is LlmError {
  return e instanceof LlmError;
}

/** The first `max` characters of a body, whitespace collapsed, secrets removed: for error messages. */
export function excerpt(text: string, secrets: readonly (string | undefined)[], max = 200): string {
  const flat = redactSecrets(text, secrets).replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}

/** A URL fit for messages: origin and path only (no user:password@, no query string with tokens). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
