/**
 * A cap on what one connection may have in the app at once. HTTP/1.1 pipelining lets a client
 * send requests without reading the responses. Node parses everything one read brought in and
 * stops reading only once written responses back up, which comes too late here: responses are
 * written at the end of the event-loop turn (pipeline.ts), so a client that never read got about
 * 9,700 of 10,000 pipelined GETs handled and every response held in memory (the "pipelining,
 * never reading" test in test/server/server.test.ts).
 *
 * A request is pipelined when it arrives while an earlier response on its connection is still
 * unfinished (node has not given it the socket yet: `res.socket` is null). Only those are
 * counted, so ordinary keep-alive traffic pays one property read. Past `MAX_PIPELINED` of them
 * in the app, the connection stops reading, and requests already parsed wait here, unhandled,
 * until earlier responses have been flushed to the client. The rest of the read in progress is
 * still parsed (node pauses between reads): a client with more than `MAX_WAITING` requests
 * waiting is sending far more than it reads, and is disconnected.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** How many pipelined requests one connection may have in the app, behind the one answered now. */
export const MAX_PIPELINED = 32;

/** How many parsed requests may wait for room before the connection is closed (~1.5 KB each). */
export const MAX_WAITING = 1024;

/** The node:net Socket fields node:http's own read backpressure uses (_http_server.js). */
interface HttpSocket extends Socket {
  /** Paused by the HTTP server: node then never resumes reading behind its back. */
  _paused?: boolean;
  parser?: { resume(): void } | null;
}

/** `handle`, with pipelined requests capped per connection. */
export function limitPipelining(handle: Listener): Listener {
  const backlogs = new WeakMap<HttpSocket, Backlog>();
  return (req, res) => {
    if (res.socket !== null) return handle(req, res);
    const socket: HttpSocket = req.socket;
    let backlog = backlogs.get(socket);
    if (!backlog) backlogs.set(socket, (backlog = new Backlog(socket, handle)));
    backlog.add(req, res);
  };
}

/** The pipelined requests of one connection: those in the app, and those waiting for room. */
class Backlog {
  readonly #socket: HttpSocket;
  readonly #handle: Listener;
  #inApp = 0;
  #waiting: (IncomingMessage | ServerResponse)[] = [];
  #paused = false;
  // One listener per connection, not one closure per request.
  readonly #finished = () => this.#onFinished();

  constructor(socket: HttpSocket, handle: Listener) {
    this.#socket = socket;
    this.#handle = handle;
    socket.once('close', () => (this.#waiting = []));
  }

  add(req: IncomingMessage, res: ServerResponse): void {
    if (this.#inApp < MAX_PIPELINED) return this.#run(req, res);
    const waiting = this.#waiting;
    waiting.push(req, res);
    if (waiting.length > 2 * MAX_WAITING) {
      this.#waiting = [];
      this.#socket.destroy();
    } else if (!this.#paused) {
      this.#paused = true;
      pause(this.#socket);
    }
  }

  #run(req: IncomingMessage, res: ServerResponse): void {
    this.#inApp++;
    res.on('finish', this.#finished);
    this.#handle(req, res);
  }

  #onFinished(): void {
    this.#inApp--;
    const waiting = this.#waiting;
    while (this.#inApp < MAX_PIPELINED && waiting.length > 0) {
      this.#run(waiting.shift() as IncomingMessage, waiting.shift() as ServerResponse);
    }
    if (waiting.length === 0 && this.#paused) {
      this.#paused = false;
      resume(this.#socket);
    }
  }
}

// As node's own backpressure does (parserOnIncoming / socketOnDrain). Without `_paused`, node
// resumes the socket the next time it dumps a finished request (IncomingMessage#_read).
function pause(socket: HttpSocket): void {
  socket._paused = true;
  socket.pause();
}

function resume(socket: HttpSocket): void {
  socket._paused = false;
  socket.parser?.resume();
  socket.resume();
}
