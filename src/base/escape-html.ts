/**
 * `escapeHtml(text)`: text made safe to put in HTML element content and in quoted attribute
 * values, the five characters OWASP names (& < > " ') replaced by entities. Not for URLs,
 * JavaScript or CSS contexts, which need their own encoding.
 */
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const SPECIAL = /[&<>"']/g;

export function escapeHtml(text: unknown): string {
  const string = typeof text === 'string' ? text : String(text);
  // Most text has nothing to escape: test first, so it is returned without a copy.
  SPECIAL.lastIndex = 0;
  return SPECIAL.test(string) ? string.replace(SPECIAL, char => ENTITIES[char]!) : string;
}
