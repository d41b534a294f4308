import type { FastifyError, FastifyInstance } from 'fastify';
import { HTTP_ERROR_CODES, type HttpErrorBody, type HttpErrorCode } from '@parley/protocol';
import { EngineUnavailableError } from '../engine/engine.ts';

/** What an error body may say besides its code and sentence (a ban's end and scope, as a socket's error). */
export type HttpErrorDetails = Pick<HttpErrorBody, 'until' | 'scope'>;

/**
 * An HTTP answer that is an error: a code of the protocol's closed list (its status comes with
 * it), a sentence, headers (Retry-After) and details (a ban's `until`). Routes and hooks throw
 * it; the one error handler ({@link handleErrors}) answers `{"error": code, "message": …}`.
 */
export class HttpError extends Error {
  readonly status: number;

  constructor(
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly details: HttpErrorDetails = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = HTTP_ERROR_CODES[code];
  }
}

/**
 * Sets the app's one error handler and its not-found answer. Client errors say what was wrong;
 * server errors reveal nothing internal and are logged.
 */
export function handleErrors(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HttpError | EngineUnavailableError, request, reply) => {
    const answer = (
      code: HttpErrorCode,
      message: string,
      status: number = HTTP_ERROR_CODES[code],
      headers: Record<string, string> = {},
      details: HttpErrorDetails = {},
    ) =>
      reply
        .code(status)
        .headers(headers)
        .send({ error: code, message, ...details } satisfies HttpErrorBody);
    if (err instanceof HttpError) return answer(err.code, err.message, err.status, err.headers, err.details);
    if (err instanceof EngineUnavailableError)
      return answer('unavailable', 'The chat service cannot reach its message bus; try again shortly.');
    const status = 'statusCode' in err && err.statusCode !== undefined ? err.statusCode : 500;
    // Fastify's own client errors: their status, our code. A body over the route's bodyLimit is
    // refused before it is read, with the code a socket's too-long message gets.
    if (status === 413)
      return answer(
        'too_large',
        `The request body is over this endpoint's limit of ${request.routeOptions.bodyLimit} bytes.`,
      );
    if (status < 500) return answer('bad_request', err.message, status);
    request.log.error({ err }, 'request failed');
    return answer('internal', 'Internal Server Error');
  });
}

/** The answer to a request no route matches. */
export function notFound(method: string, url: string): HttpError {
  return new HttpError('not_found', `No route for ${method} ${url.split('?')[0]}`);
}
