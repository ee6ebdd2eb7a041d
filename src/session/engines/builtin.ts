/** Registers the engines that ship with Quickstep. Imported once by the session settings. */
import './memory.ts';
import './redis.ts';
