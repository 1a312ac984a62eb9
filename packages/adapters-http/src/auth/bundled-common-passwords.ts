import type { CommonPasswords } from '@shipyard/core';
import { dictionary } from '@zxcvbn-ts/language-common';

/** The few digits and symbols people append to a listed word to pass a rule (`Password1!`). */
const APPENDED = /[\d\p{P}\p{S}]{1,4}$/u;

/**
 * The list of about 50 000 passwords most seen in breaches that ships with zxcvbn-ts
 * (`@zxcvbn-ts/language-common`), built into a set on first use. A password is common when,
 * in lower case, it is on the list, or is a listed word with up to four digits or symbols appended.
 */
export class BundledCommonPasswords implements CommonPasswords {
  private listed: Set<string> | undefined;

  private set(): Set<string> {
    this.listed ??= new Set(dictionary['passwords-common'].map((password) => password.toLowerCase()));
    return this.listed;
  }

  isCommon(password: string): boolean {
    const lower = password.toLowerCase();
    const listed = this.set();
    if (listed.has(lower)) return true;
    const base = lower.replace(APPENDED, '');
    return base.length >= 4 && listed.has(base);
  }
}
