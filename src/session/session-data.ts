/**
 * The types an app gives its session and flash data a shape with, by declaration merging on
 * the interfaces below (exported from 'quickstep'); the keywords (`session`, `flash`, `push`)
 * and Session's methods are typed through them. Types only: nothing here exists at run time.
 */

/**
 * The shape of session data. Empty and open: an app declares its keys by declaration merging,
 * and `session('user')` is then typed:
 * ```ts
 * declare module 'quickstep' { interface SessionData { user: string; count: number } }
 * ```
 */
export interface SessionData {}

/**
 * The shape of flash messages, open like SessionData: `flash('notice')` is then typed.
 * ```ts
 * declare module 'quickstep' { interface FlashData { notice: string } }
 * ```
 */
export interface FlashData {}
export type FlashKey = (keyof FlashData & string) | (string & {});
export type FlashValue<K extends string> = K extends keyof FlashData ? FlashData[K] : unknown;

/** A key of the session: the declared keys of SessionData are typed, any other string is allowed. */
export type SessionKey = (keyof SessionData & string) | (string & {});
/** The value type of a session key. */
export type SessionValue<K extends string> = K extends keyof SessionData ? SessionData[K] : unknown;

/** The item type of an array key of SessionData (`recent: string[]` -> string); unknown else. */
export type PushItem<K extends string> = SessionValue<K> extends readonly (infer Item)[] ? Item : unknown;
