// Heritage route: sites in order with distance from here, route progress, my check-ins.
import { h, mount } from '../dom.js';
import { formatTime, nameOf, t } from '../i18n.js';
import { list } from '../records.js';
import { distanceMetres } from '../sync-rules.js';
import { currentPosition, positionText } from './widgets.js';

let lastPosition = null;

export async function render(root, app) {
  const ref = await app.reference();
  const checkins = (await list('checkin')).map((r) => ({ id: r.id, pending: r.pending, ...r.data }));
  const mine = checkins.filter((c) => (c.by ?? app.auth.user.id) === app.auth.user.id);
  const visited = new Set(mine.map((c) => c.site_id));
  const sitesById = new Map(ref.sites.map((s) => [s.id, s]));
  const route = ref.routes[0];
  const sites = route ? route.site_ids.map((id) => sitesById.get(id)).filter(Boolean) : ref.sites;
  const towns = new Map(ref.towns.map((x) => [x.code, x]));
  const here = h('p', { class: 'hint', id: 'route-position', role: 'status' }, positionText(lastPosition));
  const rows = h('ol', { class: 'sites' });
  const draw = () => mount(rows, sites.map((site, index) => siteRow(app, site, index, visited.has(site.id), towns)));
  const locate = async () => {
    here.textContent = t('gps.locating');
    try { lastPosition = await currentPosition(); here.textContent = positionText(lastPosition); draw(); } catch { here.textContent = t('gps.failed'); }
  };
  mount(root,
    h('section', { class: 'card' },
      h('h1', {}, route?.name || t('route.title')),
      h('p', { id: 'route-progress' }, t('route.progress', { done: sites.filter((s) => visited.has(s.id)).length, total: sites.length })),
      h('div', { class: 'footprints', 'aria-hidden': 'true' }, sites.map((s) => h('span', { class: visited.has(s.id) ? 'dot done' : 'dot' }))),
      here, h('button', { type: 'button', onclick: locate }, t('gps.refresh'))),
    rows,
    h('section', { class: 'card', id: 'my-checkins' }, h('h2', {}, t('route.mine')),
      mine.length ? h('ul', { class: 'list' }, mine.sort((a, b) => String(b.at).localeCompare(String(a.at))).map((c) => h('li', { class: 'item' },
        h('strong', {}, sitesById.get(c.site_id)?.name || ''), ' ', formatTime(c.at), ' · ', t(`activity.${c.activity}`),
        ' · ', t('checkin.people', { n: c.participants }),
        c.verified === true ? h('span', { class: 'pill ok' }, t('checkin.verified')) : null,
        c.verified === false ? h('span', { class: 'pill warn' }, t('checkin.unverified')) : null,
        c.pending ? h('span', { class: 'pill warn' }, t('cases.pending')) : null))) : h('p', { class: 'hint' }, t('route.none'))));
  draw();
  if (!lastPosition) locate();
}

function siteRow(app, site, index, isVisited, towns) {
  const distance = lastPosition ? distanceMetres(lastPosition.lat, lastPosition.lon, site.lat, site.lon) : null;
  return h('li', { class: `site card ${isVisited ? 'visited' : ''}`, dataset: { site: site.code } },
    h('h2', {}, `${index + 1}. ${site.name}`),
    h('p', { class: 'meta' }, nameOf(towns.get(site.town)), ' · ', site.village || '',
      distance !== null ? ` · ${t('route.distance', { d: formatDistance(distance) })}` : '',
      isVisited ? h('span', { class: 'pill ok' }, t('route.visited')) : null),
    site.town === app.auth.user.town || app.auth.user.role === 'admin'
      ? h('a', { class: 'action', href: `#/checkin/${site.id}` }, t('route.checkin'))
      : h('p', { class: 'hint' }, t('route.other_town')));
}

export function formatDistance(metres) {
  return metres >= 1000 ? `${(metres / 1000).toFixed(1)} km` : `${Math.round(metres)} m`;
}
