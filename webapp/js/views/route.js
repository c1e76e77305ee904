// Heritage route: an offline schematic of the route, sites in order with distance from here,
// the next site to visit, and my check-ins (verified, or why not, once the server has said).
import { h, mount } from '../dom.js';
import { formatTime, nameOf, t } from '../i18n.js';
import { list } from '../records.js';
import { distanceMetres } from '../sync-rules.js';
import { currentPosition, gpsErrorText, positionText } from './widgets.js';

let lastPosition = null;
const SVG_NS = 'http://www.w3.org/2000/svg';
const MAP = { width: 340, height: 240, pad: 28 };
// The worker is drawn on the schematic when this close to a site; farther, the text says where.
const NEAR_ROUTE_M = 30_000;

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
  const next = h('p', { id: 'route-next', role: 'status' });
  const map = h('figure', { class: 'route-map', id: 'route-map' });
  const rows = h('ol', { class: 'sites' });
  const draw = () => {
    mount(rows, sites.map((site, index) => siteRow(site, index, visited.has(site.id), towns)));
    mount(map, routeMap(route?.name || t('route.title'), sites, visited, lastPosition));
    next.textContent = nextText(sites, visited, lastPosition);
  };
  const locate = async () => {
    here.textContent = t('gps.locating');
    try { lastPosition = await currentPosition(); here.textContent = positionText(lastPosition); } catch (error) { here.textContent = gpsErrorText(error); }
    draw();
  };
  mount(root,
    h('section', { class: 'card' },
      h('h1', {}, route?.name || t('route.title')),
      h('p', { id: 'route-progress' }, t('route.progress', { done: sites.filter((s) => visited.has(s.id)).length, total: sites.length })),
      map, next,
      here, h('button', { type: 'button', onclick: locate }, t('gps.refresh'))),
    rows,
    h('section', { class: 'card', id: 'my-checkins' }, h('h2', {}, t('route.mine')),
      mine.length ? h('ul', { class: 'list' }, mine.sort((a, b) => String(b.at).localeCompare(String(a.at))).map((c) => h('li', { class: 'item', dataset: { checkin: c.id } },
        h('strong', {}, sitesById.get(c.site_id)?.name || ''), ' ', formatTime(c.at), ' · ', t(`activity.${c.activity}`),
        ' · ', t('checkin.people', { n: c.participants }),
        c.verified === true ? h('span', { class: 'pill ok' }, t('checkin.verified')) : null,
        c.verified === false ? h('span', { class: 'pill warn verdict' }, c.unverified_reason
          ? t('checkin.unverified_because', { reason: t(`reason.${c.unverified_reason}`) }) : t('checkin.unverified')) : null,
        c.pending ? h('span', { class: 'pill warn' }, t('cases.pending')) : null))) : h('p', { class: 'hint' }, t('route.none'))));
  draw();
  if (!lastPosition) locate();
}

/** Any site of any town: the route crosses the alliance, and anyone may check in anywhere. */
function siteRow(site, index, isVisited, towns) {
  const distance = lastPosition ? distanceMetres(lastPosition.lat, lastPosition.lon, site.lat, site.lon) : null;
  return h('li', { class: `site card ${isVisited ? 'visited' : ''}`, dataset: { site: site.code } },
    h('h2', {}, `${index + 1}. ${site.name}`),
    h('p', { class: 'meta' }, nameOf(towns.get(site.town)), ' · ', site.village || '',
      distance !== null ? ` · ${t('route.distance', { d: formatDistance(distance) })}` : '',
      isVisited ? h('span', { class: 'pill ok' }, t('route.visited')) : null),
    h('a', { class: 'action', href: `#/checkin/${site.id}` }, t('route.checkin')));
}

/** The next site in route order not yet visited, and how far it is from here. */
function nextText(sites, visited, position) {
  const site = sites.find((s) => !visited.has(s.id));
  if (!site) return sites.length ? t('route.all_done') : '';
  if (!position) return t('route.next_unlocated', { name: site.name });
  return t('route.next', { name: site.name, d: formatDistance(distanceMetres(position.lat, position.lon, site.lat, site.lon)) });
}

/**
 * Project points into the box keeping the map's proportions (as the console's schematic does):
 * longitude scaled by cos(latitude), north up.
 * @returns {{x:number, y:number}[]} in the order given
 */
export function project(points, { width, height, pad } = MAP) {
  if (!points.length) return [];
  const mean = (points.reduce((sum, p) => sum + p.lat, 0) / points.length) * (Math.PI / 180);
  const xs = points.map((p) => p.lon * Math.cos(mean));
  const ys = points.map((p) => p.lat);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const innerW = width - 2 * pad;
  const innerH = height - 2 * pad;
  const spanX = maxX - minX;
  const spanY = maxY - minY;
  let scale = Math.min(spanX ? innerW / spanX : Infinity, spanY ? innerH / spanY : Infinity);
  if (scale === Infinity) scale = 0; // one place only: in the middle
  const offX = pad + (innerW - spanX * scale) / 2;
  const offY = pad + (innerH - spanY * scale) / 2;
  return points.map((_, i) => ({ x: round1(offX + (xs[i] - minX) * scale), y: round1(offY + (maxY - ys[i]) * scale) }));
}

const round1 = (n) => Math.round(n * 10) / 10;

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== null && value !== undefined) el.setAttribute(key, String(value));
  for (const child of children.flat()) if (child !== null && child !== undefined) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

/** The schematic: the route's line, its sites numbered (visited filled), and the worker. */
function routeMap(name, sites, visited, position) {
  if (!sites.length) return h('p', { class: 'hint' }, t('route.no_sites'));
  const near = position && sites.some((s) => distanceMetres(position.lat, position.lon, s.lat, s.lon) <= NEAR_ROUTE_M);
  const points = project(near ? [...sites, position] : sites);
  const stops = points.slice(0, sites.length);
  const you = near ? points[sites.length] : null;
  const { width, height } = MAP;
  return [svg('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'aria-labelledby': 'route-map-title', class: 'route-svg' },
    svg('title', { id: 'route-map-title' }, t('route.map_title', { name, n: sites.length })),
    svg('rect', { x: 0, y: 0, width, height, fill: '#fbfaf7', stroke: '#d9dee3' }),
    svg('polyline', { points: stops.map((p) => `${p.x},${p.y}`).join(' '), fill: 'none', stroke: '#b3261e', 'stroke-width': 2, 'stroke-dasharray': '6 4', 'stroke-linejoin': 'round' }),
    sites.map((site, i) => {
      const done = visited.has(site.id);
      const p = stops[i];
      const right = p.x > width * 0.6;
      return svg('g', { class: `route-site${done ? ' visited' : ''}`, 'data-stop': site.code, 'data-order': i + 1 },
        svg('title', {}, `${i + 1}. ${site.name}${done ? ` · ${t('route.visited')}` : ''}`),
        svg('circle', { cx: p.x, cy: p.y, r: done ? 8 : 6, fill: done ? '#b3261e' : '#ffffff', stroke: '#8c1d15', 'stroke-width': 1.5 }),
        svg('text', { x: right ? p.x - 10 : p.x + 10, y: p.y + 4, 'text-anchor': right ? 'end' : 'start', 'font-size': 11, fill: '#1d2329' }, `${i + 1}. ${site.name}`));
    }),
    you ? svg('g', { class: 'route-you' },
      svg('title', {}, t('route.you')),
      svg('circle', { cx: you.x, cy: you.y, r: 5, fill: '#1565c0', stroke: '#ffffff', 'stroke-width': 2 })) : null),
  h('figcaption', { class: 'hint' }, t('route.map_legend'))];
}

export function formatDistance(metres) {
  return metres >= 1000 ? `${(metres / 1000).toFixed(1)} km` : `${Math.round(metres)} m`;
}
