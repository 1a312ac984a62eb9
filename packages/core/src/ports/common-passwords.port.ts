/**
 * The passwords attackers try first (breach lists, keyboard walks, names): a password on the list
 * is refused however long it is.
 */
export interface CommonPasswords {
  /** Whether `password` is on the list, compared without regard to letter case. */
  isCommon(password: string): boolean;
}
