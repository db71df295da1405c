/**
 * The account: who is signed in, the account page's overview, and what the page does
 * (sign in or up, sign out here or everywhere, a new password, vouchers, computers, restoring). Only the Rust side keeps the
 * session; the page never sees a token or keeps a password.
 */
import {
  commands,
  toAppError,
  type AccountInfo,
  type AccountOverview,
  type AppError,
} from "../ipc";
import { library } from "../library/library.svelte";
import { walletState } from "../wallet/wallet.svelte";

let info = $state<AccountInfo | null>(null);
let overview = $state<AccountOverview | null>(null);
let loadError = $state<AppError | null>(null);

async function signedIn(next: AccountInfo): Promise<void> {
  info = next;
  overview = null;
  await Promise.all([walletState.refresh(), library.refresh(), account.loadOverview()]);
}

export const account = {
  get info(): AccountInfo | null {
    return info;
  },
  get overview(): AccountOverview | null {
    return overview;
  },
  get loadError(): AppError | null {
    return loadError;
  },
  /** True when someone is signed in. */
  get signedIn(): boolean {
    return info?.email != null;
  },
  async refresh(): Promise<void> {
    try {
      info = await commands.accountGet();
    } catch (e) {
      loadError = toAppError(e);
    }
  },
  async loadOverview(): Promise<void> {
    if (!account.signedIn) {
      overview = null;
      return;
    }
    try {
      overview = await commands.accountOverview();
      loadError = null;
    } catch (e) {
      loadError = toAppError(e);
    }
  },
  async signIn(email: string, password: string): Promise<void> {
    await signedIn(await commands.accountSignIn(email, password));
  },
  async signUp(email: string, password: string): Promise<void> {
    await signedIn(await commands.accountSignUp(email, password));
  },
  async signOut(): Promise<void> {
    info = await commands.accountSignOut();
    overview = null;
    walletState.clear();
  },
  /** A new password: the store signs every other computer out; this one stays signed in. */
  async changePassword(current: string, next: string): Promise<void> {
    await commands.accountChangePassword(current, next);
    await account.loadOverview();
  },
  /** Ends every session of the account, this computer's too. */
  async signOutEverywhere(): Promise<void> {
    info = await commands.accountSignOutEverywhere();
    overview = null;
    walletState.clear();
  },
  async redeem(code: string): Promise<void> {
    walletState.set(await commands.voucherRedeem(code));
    await account.loadOverview();
  },
  async deactivate(deviceId: string): Promise<void> {
    info = await commands.deviceDeactivate(deviceId);
    if (!account.signedIn) {
      overview = null;
      walletState.clear();
      return;
    }
    await account.loadOverview();
  },
  /** Restores what the account holds on this computer; resolves to how many titles. */
  async restore(): Promise<number> {
    const result = await commands.libraryRestore();
    await library.refresh();
    return result.restored.length;
  },
};
