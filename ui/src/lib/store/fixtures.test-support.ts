/** A catalog title for the store's unit tests: a 360-line film to rent, `over` changed. */
import type { Title } from "../ipc/bindings";

export function fixture(id: string, over: Partial<Title> = {}): Title {
  return {
    id,
    kind: "film",
    name: id,
    synopsis: "",
    year: 2024,
    runtime_s: 60,
    genre: "",
    studio: "",
    artist: null,
    new_release: false,
    poster_url: "",
    backdrop_url: null,
    series: null,
    offer: { kind: "rent", price_cents: 300, currency: "EUR" },
    width: 640,
    height: 360,
    size_bytes: 1,
    licence_to_share: null,
    origin: "store",
    publisher: null,
    for_sale: true,
    rental: null,
    variant: null,
    work: id,
    ...over,
  };
}
