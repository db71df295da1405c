/** Words and numbers of the seeding policy's form. Pure: no clock, no DOM. */
import { i18n, t } from "../i18n/i18n.svelte";
import type { SeedingPolicy } from "../ipc/bindings";

/** The highest ratio and the longest time the core takes (`MAX_SEED_RATIO`, `MAX_SEED_HOURS`). */
export const MAX_RATIO = 100;
export const MAX_HOURS = 8760;

/**
 * The ratio the person typed: `null` (no limit) for an empty field, a number above 0 and at most
 * {@link MAX_RATIO} ("1.5" and "1,5" alike, as people write decimals in either), or an error
 * sentence. The core checks the range again.
 */
export function parseRatio(text: string): { value: number | null } | { error: string } {
  const typed = text.trim().replace(",", ".");
  if (typed === "") return { value: null };
  const value = /^\d+(\.\d+)?$|^\.\d+$/.test(typed) ? Number(typed) : NaN;
  if (!(value > 0 && value <= MAX_RATIO)) return { error: t("downloads.sharing.notRatio", { max: MAX_RATIO }) };
  return { value };
}

/** The hours the person typed: `null` (no limit) for an empty field, 1 to {@link MAX_HOURS}, or an error sentence. */
export function parseHours(text: string): { value: number | null } | { error: string } {
  const typed = text.trim();
  if (typed === "") return { value: null };
  const value = /^\d+$/.test(typed) ? Number(typed) : NaN;
  if (!(value >= 1 && value <= MAX_HOURS)) return { error: t("downloads.sharing.notHours", { max: MAX_HOURS }) };
  return { value };
}

/** What the policy does, in one sentence for the toast and the card: "Shared until 2× its size or 72 hours." */
export function describePolicy(policy: SeedingPolicy): string {
  if (!policy.share) return t("downloads.sharing.describeOff");
  const ratio = policy.until_ratio === null ? null : new Intl.NumberFormat(i18n.current, { maximumFractionDigits: 2 }).format(policy.until_ratio);
  const hours = policy.until_hours;
  if (ratio !== null && hours !== null) return t("downloads.sharing.describeBoth", { ratio, count: hours });
  if (ratio !== null) return t("downloads.sharing.describeRatio", { ratio });
  if (hours !== null) return t("downloads.sharing.describeHours", { count: hours });
  return t("downloads.sharing.describeAlways");
}
