// Lighthouse's own default configuration cut to the categories the site test audits (SEO and
// accessibility): the same audits, weights and groups, so the scores are the ones a full run gives.
// Lighthouse imports every audit its configuration lists before it filters them by category; a
// full run imported ~150 audit modules (performance's trace processing among them) to use ~70.
import defaultConfig from 'lighthouse/core/config/default-config.js';

const CATEGORIES = ['seo', 'accessibility'];

const wanted = new Set(
  CATEGORIES.flatMap((id) => defaultConfig.categories[id].auditRefs.map((ref) => ref.id)),
);
const auditId = (audit) => (typeof audit === 'string' ? audit : audit.path).split('/').pop();

export default {
  settings: {onlyCategories: CATEGORIES},
  artifacts: defaultConfig.artifacts, // those no kept audit reads are left out by Lighthouse itself
  audits: defaultConfig.audits.filter((audit) => wanted.has(auditId(audit))),
  groups: defaultConfig.groups,
  categories: Object.fromEntries(CATEGORIES.map((id) => [id, defaultConfig.categories[id]])),
};
