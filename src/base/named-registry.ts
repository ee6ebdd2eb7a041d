/**
 * A name -> definition table for things config.yml chooses by name (session engines, template
 * engines): the built-in ones in an explicit map a reader can see, plus those an app adds.
 * Names match without regard to case (`redis` = `Redis`); a built-in name cannot be taken over,
 * since that would change what an existing config means without saying so.
 */
export class NamedRegistry<Definition> {
  readonly #builtIn: Readonly<Record<string, Definition>>;
  readonly #added = new Map<string, Definition>();
  /** How a message names what is registered: "session engine", "template engine". */
  readonly #kind: string;

  constructor(kind: string, builtIn: Readonly<Record<string, Definition>>) {
    this.#kind = kind;
    this.#builtIn = builtIn;
  }

  /** Adds (or replaces) a definition under `name`; `caller` names the API in the message. */
  register(name: string, definition: Definition, caller: string): void {
    const clash = this.find(name);
    if (clash && Object.hasOwn(this.#builtIn, clash.name)) {
      throw new TypeError(`${caller}("${name}"): ${clash.name} is a built-in ${this.#kind}; register yours under another name`);
    }
    if (clash) this.#added.delete(clash.name);
    this.#added.set(name, definition);
  }

  /** The definition known as `name`, with the name as registered. */
  find(name: string): { name: string; definition: Definition } | undefined {
    const wanted = name.toLowerCase();
    for (const [known, definition] of [...Object.entries(this.#builtIn), ...this.#added]) {
      if (known.toLowerCase() === wanted) return { name: known, definition };
    }
    return undefined;
  }

  /** Every known name, built-in first, for error messages; with `'built-in'` only those that ship with Quickstep. */
  names(which: 'all' | 'built-in' = 'all'): string[] {
    return which === 'built-in' ? Object.keys(this.#builtIn) : [...Object.keys(this.#builtIn), ...this.#added.keys()];
  }
}
