/**
 * The JSON session instructions the registration and refresh endpoints answer with (the spec's
 * "JSON Session Instruction Format"): the DBSC session's id, where to refresh, its scope (this
 * origin, the whole of it) and the one credential it keeps alive, the bound cookie.
 */

/** The instructions for a live binding. */
export function sessionInstructions(id: string, refreshPath: string, cookieName: string, cookieAttributes: string): string {
  return JSON.stringify({
    session_identifier: id,
    refresh_url: refreshPath,
    scope: { include_site: false, scope_specification: [] },
    credentials: [{ type: 'cookie', name: cookieName, attributes: cookieAttributes }],
  });
}

/** The instructions that end the browser's DBSC session: the server has no binding for it (any more). */
export const END_INSTRUCTIONS = '{"continue":false}';
