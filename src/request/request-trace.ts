/**
 * The traces of one request and of its route handlers (`quickstep.request`,
 * `quickstep.request.handler`; the channels and their rules are in base/tracing.ts). Called only
 * where a channel has subscribers: a request nobody traces never reaches this file, and its
 * Context holds nothing of it (the request's payload is found through a WeakMap).
 */
import { Forward, Halt, HttpError, Pass } from '../base/errors.ts';
import { channels, traceEnd, traceFailure, traceStart, type HandlerTrace, type RequestTrace } from '../base/tracing.ts';
import type { Context } from './context.ts';
import { isThenable } from './steps.ts';

/** The payload of each traced request, until its response is over. */
const requests = new WeakMap<Context, RequestTrace>();

/**
 * Runs `run` (the pipeline) as the traced request `ctx`: `start` now, with its bound stores
 * entered for everything the request does; over once its response has finished or the client
 * went away, with the status sent, and an `error` first for a 5xx.
 */
export function traceRequest(ctx: Context, run: () => void): void {
  const payload: RequestTrace = { req: ctx.req, res: ctx.res, method: ctx.method, route: undefined, status: 200 };
  requests.set(ctx, payload);
  const res = ctx.res;
  const over = () => {
    res.off('finish', over).off('close', over);
    requests.delete(ctx);
    payload.status = res.statusCode;
    if (payload.status >= 500) traceFailure(channels.request, payload, payload.error ?? new HttpError(payload.status));
    else traceEnd(channels.request, payload);
  };
  res.once('finish', over).once('close', over);
  traceStart(channels.request, payload, run);
}

/**
 * The error that made `ctx`'s error response (error-response.ts), kept for the request's
 * `error` event should its status be a 5xx.
 */
export function noteRequestError(ctx: Context, error: unknown): void {
  const payload = requests.get(ctx);
  if (payload !== undefined) payload.error = error;
}

/**
 * Calls the handler of route `route` for `ctx`, traced (`quickstep.request.handler`), and names
 * the route in the request's trace. Returns what the handler returned, or, for a Promise, one that
 * settles with it once the trace is over. A control-flow signal (halt, redirect, pass, forward)
 * ends the trace without `error`; anything else thrown or rejected is its `error`.
 */
export function traceHandler(ctx: Context, route: string, handler: (ctx: Context) => unknown): unknown {
  const request = requests.get(ctx);
  if (request !== undefined) request.route = route;
  const on = channels.handler;
  if (!on.hasSubscribers) return handler(ctx);
  const payload: HandlerTrace = { req: ctx.req, res: ctx.res, method: ctx.method, route };
  const failed = (error: unknown) => (isSignal(error) ? traceEnd(on, payload) : traceFailure(on, payload, error));
  let result: unknown;
  try {
    result = on.start.runStores(payload, handler, undefined, ctx);
  } catch (error) {
    if (!isSignal(error)) {
      payload.error = error;
      on.error.publish(payload);
    }
    on.end.publish(payload);
    traceEnd(on, payload);
    throw error;
  }
  on.end.publish(payload);
  if (!isThenable(result)) {
    traceEnd(on, payload);
    return result;
  }
  return Promise.resolve(result).then(
    value => {
      traceEnd(on, payload);
      return value;
    },
    error => {
      failed(error);
      throw error;
    },
  );
}

/** Whether `thrown` is a control-flow signal rather than a failure. */
function isSignal(thrown: unknown): boolean {
  return thrown instanceof Halt || thrown instanceof Pass || thrown instanceof Forward;
}
