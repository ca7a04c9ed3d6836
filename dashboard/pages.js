// Which pages exist and which roles see them: the same split as the API's roles (a page's calls
// would be refused for any other role anyway).
export const PAGES = [
  { id: 'runs', title: 'Runs', roles: ['data-scientist', 'auditor'] },
  { id: 'sites', title: 'Sites', roles: ['admin', 'auditor'] },
  { id: 'ledger', title: 'Ledger', roles: ['auditor'] },
  { id: 'predict', title: 'Predict', roles: ['clinician'] },
  { id: 'card', title: 'Model card', roles: ['data-scientist', 'auditor', 'clinician'] },
];

export const pagesFor = (role) => PAGES.filter((p) => p.roles.includes(role));

/** `#/runs/run-1234abcd` → { page: 'runs', arg: 'run-1234abcd' }. */
export function parseHash(hash) {
  const [page = '', ...rest] = hash.replace(/^#\/?/, '').split('/');
  return { page, arg: rest.length > 0 ? decodeURIComponent(rest.join('/')) : null };
}
