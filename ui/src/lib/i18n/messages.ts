/**
 * Every sentence the window shows, by language and domain (`messages/<language>/<domain>.json`,
 * one file per folder of `lib/`, so whoever changes a domain changes its sentences beside it).
 * English is the source: its keys are the typed keys of `t`, and the other languages must have
 * every one of them (`i18n.test.ts`). A new domain needs its three lines here.
 */
import en_common from "./messages/en/common.json";
import en_shell from "./messages/en/shell.json";
import en_store from "./messages/en/store.json";
import en_library from "./messages/en/library.json";
import en_downloads from "./messages/en/downloads.json";
import en_account from "./messages/en/account.json";
import en_wallet from "./messages/en/wallet.json";
import en_live from "./messages/en/live.json";
import en_publish from "./messages/en/publish.json";
import en_player from "./messages/en/player.json";
import en_updates from "./messages/en/updates.json";
import en_connection from "./messages/en/connection.json";
import en_share from "./messages/en/share.json";
import en_format from "./messages/en/format.json";
import en_settings from "./messages/en/settings.json";
import en_errors from "./messages/en/errors.json";
import ar_common from "./messages/ar/common.json";
import ar_shell from "./messages/ar/shell.json";
import ar_store from "./messages/ar/store.json";
import ar_library from "./messages/ar/library.json";
import ar_downloads from "./messages/ar/downloads.json";
import ar_account from "./messages/ar/account.json";
import ar_wallet from "./messages/ar/wallet.json";
import ar_live from "./messages/ar/live.json";
import ar_publish from "./messages/ar/publish.json";
import ar_player from "./messages/ar/player.json";
import ar_updates from "./messages/ar/updates.json";
import ar_connection from "./messages/ar/connection.json";
import ar_share from "./messages/ar/share.json";
import ar_format from "./messages/ar/format.json";
import ar_settings from "./messages/ar/settings.json";
import ar_errors from "./messages/ar/errors.json";
import it_common from "./messages/it/common.json";
import it_shell from "./messages/it/shell.json";
import it_store from "./messages/it/store.json";
import it_library from "./messages/it/library.json";
import it_downloads from "./messages/it/downloads.json";
import it_account from "./messages/it/account.json";
import it_wallet from "./messages/it/wallet.json";
import it_live from "./messages/it/live.json";
import it_publish from "./messages/it/publish.json";
import it_player from "./messages/it/player.json";
import it_updates from "./messages/it/updates.json";
import it_connection from "./messages/it/connection.json";
import it_share from "./messages/it/share.json";
import it_format from "./messages/it/format.json";
import it_settings from "./messages/it/settings.json";
import it_errors from "./messages/it/errors.json";

/** English: the source, and what a sentence missing in another language falls back to. */
export const en = { common: en_common, shell: en_shell, store: en_store, library: en_library, downloads: en_downloads, account: en_account, wallet: en_wallet, live: en_live, publish: en_publish, player: en_player, updates: en_updates, connection: en_connection, share: en_share, format: en_format, settings: en_settings, errors: en_errors };

/** The shape every language has: English's domains, each a tree of sentences. */
export type Messages = { [D in keyof typeof en]: Record<string, unknown> };

/** Arabic. */
export const ar: Messages = { common: ar_common, shell: ar_shell, store: ar_store, library: ar_library, downloads: ar_downloads, account: ar_account, wallet: ar_wallet, live: ar_live, publish: ar_publish, player: ar_player, updates: ar_updates, connection: ar_connection, share: ar_share, format: ar_format, settings: ar_settings, errors: ar_errors };

/** Italian. */
export const it: Messages = { common: it_common, shell: it_shell, store: it_store, library: it_library, downloads: it_downloads, account: it_account, wallet: it_wallet, live: it_live, publish: it_publish, player: it_player, updates: it_updates, connection: it_connection, share: it_share, format: it_format, settings: it_settings, errors: it_errors };
