/**
 * Each section's filters and sort, kept while the person goes elsewhere (a title's sheet, a
 * series, another tab), so coming back finds the section as it was left.
 */
import { NO_FILTERS, SECTIONS, type Filters, type Section, type Sort } from "./browse";

const filters = $state(Object.fromEntries(SECTIONS.map((s) => [s.id, { ...NO_FILTERS }])) as Record<Section, Filters>);
const sorts = $state(Object.fromEntries(SECTIONS.map((s) => [s.id, "featured"])) as Record<Section, Sort>);

export const browsing = {
  filters(section: Section): Filters {
    return filters[section];
  },
  setFilter<K extends keyof Filters>(section: Section, key: K, value: Filters[K]): void {
    filters[section][key] = value;
  },
  clear(section: Section): void {
    filters[section] = { ...NO_FILTERS };
  },
  sort(section: Section): Sort {
    return sorts[section];
  },
  setSort(section: Section, sort: Sort): void {
    sorts[section] = sort;
  },
};
