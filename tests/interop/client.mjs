// Backstage's own CatalogClient (@backstage/catalog-client) against a live Meshforge, for
// tests/interop/test_backstage_client.py. Every method is called as a Backstage app calls it ({token} as the
// second argument); each answer is put beside a direct HTTP request to the same endpoint (written from
// Backstage's documented API, not copied from the client) and, for reads, beside the answer of Backstage's
// in-memory reference client (`@backstage/catalog-client/testUtils`) holding the same entities, which applies
// Backstage's filter, predicate, ordering, fields and facet rules.
//
// stdin: {baseUrl, token, files, locations, uids, extra}; stdout: {snapshot, cases: {name: outcome}}, where an
// outcome is {ok, value | error, requests (what the client sent), direct: {status, value | body, link},
// same (the client's answer equals the direct one), expected (the reference client's answer)}.

import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { CATALOG_FILTER_EXISTS, CatalogClient } from '@backstage/catalog-client';
import { InMemoryCatalogClient } from '@backstage/catalog-client/testUtils';

const payload = JSON.parse(readFileSync(0, 'utf8'));
const { baseUrl, token } = payload;
const options = { token };
const basePath = new URL(baseUrl).pathname;
const MAX_PAGES = 200; // a server that hands out cursors forever must not hang the test
const CONCURRENT_READS = 4;

// --- what the client sends: each case has a client of its own, so that cases can run side by side ------------

function recordedClient() {
  const log = [];
  const recordingFetch = async (input, init = {}) => {
    const response = await fetch(input, init);
    const url = new URL(typeof input === 'string' ? input : input.url);
    log.push({
      request: `${init.method ?? 'GET'} ${url.pathname.slice(basePath.length)}${decodeURIComponent(url.search)}`,
      status: response.status,
      link: response.headers.get('link'),
    });
    return response;
  };
  const client = new CatalogClient({
    discoveryApi: { getBaseUrl: async () => baseUrl },
    fetchApi: { fetch: recordingFetch },
  });
  return { client, log };
}

// --- direct HTTP --------------------------------------------------------------------------------------------

async function http(method, path, { query = [], body } = {}) {
  const url = new URL(baseUrl + path);
  for (const [key, value] of query) {
    url.searchParams.append(key, value);
  }
  const response = await fetch(url, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body !== undefined && { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text.slice(0, 2000);
    }
  }
  return { status: response.status, body: parsed, link: response.headers.get('link') };
}

const get = (path, query) => http('GET', path, { query });
const post = (path, body, query) => http('POST', path, { body, query });

// --- summaries ------------------------------------------------------------------------------------------------

const plain = value => (value === undefined ? null : JSON.parse(JSON.stringify(value)));

function refOf(entity) {
  if (!entity) {
    return null;
  }
  if (!entity.kind || !entity.metadata?.name) {
    return plain(entity); // a projection without kind or name: shown whole
  }
  return `${entity.kind}:${entity.metadata.namespace ?? 'default'}/${entity.metadata.name}`.toLowerCase();
}

const refs = items => items.map(refOf);
const entities = response => refs(response.items);
const projected = response => plain(response.items);
const page = response => ({ items: refs(response.items), totalItems: response.totalItems ?? null });
const pageProjected = response => ({ items: plain(response.items), totalItems: response.totalItems ?? null });
const one = entity => (entity ? { ref: refOf(entity), uid: entity.metadata?.uid ?? null } : null);
const location = loc => (loc ? { id: loc.id, type: loc.type, target: loc.target, entityRef: loc.entityRef ?? null } : null);
const locations = response => response.items.map(location);

function facets(response) {
  const sorted = {};
  for (const [facet, values] of Object.entries(response.facets ?? {})) {
    sorted[facet] = [...values]
      .map(({ value, count }) => [value, count])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
  return sorted;
}

function failure(error) {
  return {
    name: error?.name ?? 'Error',
    message: String(error?.message ?? error).slice(0, 2000),
    statusCode: error?.statusCode ?? null,
    cause: error?.cause ? { name: error.cause.name, message: String(error.cause.message).slice(0, 2000) } : null,
  };
}

// --- one case -------------------------------------------------------------------------------------------------

const cases = {};
const reads = [];

/** A case that writes nothing: queued, and run a few at a time with the others (see below). */
function read(name, spec) {
  reads.push(() => call(name, spec));
}

/**
 * Call the client, then the same endpoint directly, then the reference client.
 *  client(c, log): the call, on a CatalogClient of its own whose requests are in `log`
 *  direct():       the direct request ({status, body, link}); fromDirect(body) shapes a 2xx body as the client
 *                  returns it, so that the two compare
 *  expected():     the reference client's answer to the same request
 *  summary(v):     what is printed of an answer (refs rather than whole entities)
 */
async function call(name, { client: clientCall, direct, fromDirect = body => body, expected, summary = plain }) {
  const { client, log } = recordedClient();
  const outcome = { ok: false };
  let value;
  try {
    value = await clientCall(client, log);
    outcome.ok = true;
    outcome.value = summary(value) ?? null;
  } catch (error) {
    outcome.error = failure(error);
  }
  outcome.requests = log.map(({ request, status }) => `${request} -> ${status}`);
  if (direct) {
    const answer = await direct();
    outcome.direct = { status: answer.status, link: answer.link };
    if (answer.status >= 200 && answer.status < 300) {
      try {
        const shaped = fromDirect(answer.body);
        outcome.direct.value = summary(shaped) ?? null;
        if (outcome.ok) {
          outcome.same = isDeepStrictEqual(plain(value), plain(shaped));
        }
      } catch (error) {
        outcome.direct.body = answer.body;
        outcome.direct.unreadable = String(error.message ?? error);
        outcome.same = false;
      }
    } else {
      outcome.direct.body = answer.body;
    }
  }
  if (expected) {
    try {
      outcome.expected = summary(await expected()) ?? null;
    } catch (error) {
      outcome.expectedError = failure(error);
    }
  }
  cases[name] = outcome;
  return value;
}

async function collect(iterable) {
  const batches = [];
  for await (const batch of iterable) {
    batches.push(batch);
    if (batches.length >= MAX_PAGES) {
      throw new Error(`still streaming after ${MAX_PAGES} pages: the server keeps answering a nextCursor`);
    }
  }
  return batches.flat();
}

// --- the catalog as Meshforge serves it, for the reference client ----------------------------------------------

async function snapshot() {
  const all = [];
  let cursor;
  for (let pages = 0; pages < MAX_PAGES; pages += 1) {
    const answer = await get('/entities/by-query', cursor ? [['cursor', cursor], ['limit', '500']] : [['limit', '500']]);
    if (answer.status !== 200) {
      throw new Error(`GET /entities/by-query answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 1000)}`);
    }
    all.push(...answer.body.items);
    cursor = answer.body.pageInfo?.nextCursor;
    if (!cursor) {
      return all;
    }
  }
  throw new Error('GET /entities/by-query kept answering a nextCursor');
}

const catalog = await snapshot();
const oracle = new InMemoryCatalogClient({ entities: catalog });

// --- reads: getEntities ------------------------------------------------------------------------------------------

function getEntitiesCase(name, request, query) {
  read(name, {
    client: c => c.getEntities(request, options),
    direct: () => get('/entities', query),
    fromDirect: body => ({ items: body }),
    expected: () => oracle.getEntities(request),
    summary: request.fields ? projected : entities,
  });
}

getEntitiesCase('getEntities: all', {}, []);
getEntitiesCase('getEntities: repeated key ORs its values', { filter: { kind: ['Component', 'System'] } }, [
  ['filter', 'kind=Component,kind=System'],
]);
getEntitiesCase(
  'getEntities: filter sets OR, keys AND',
  { filter: [{ kind: 'API' }, { kind: 'Component', 'spec.type': 'website' }] },
  [
    ['filter', 'kind=API'],
    ['filter', 'kind=Component,spec.type=website'],
  ],
);
getEntitiesCase(
  'getEntities: CATALOG_FILTER_EXISTS',
  { filter: { kind: 'Component', 'spec.system': CATALOG_FILTER_EXISTS } },
  [['filter', 'kind=Component,spec.system']],
);
getEntitiesCase(
  'getEntities: keys and values compare case-insensitively',
  { filter: { KIND: 'component', 'spec.TYPE': 'SERVICE' } },
  [['filter', 'KIND=component,spec.TYPE=SERVICE']],
);
getEntitiesCase(
  'getEntities: relations.ownedBy',
  { filter: { 'relations.ownedBy': 'group:default/team-a' } },
  [['filter', 'relations.ownedBy=group:default/team-a']],
);
getEntitiesCase(
  'getEntities: orphans by their annotation',
  { filter: { 'metadata.annotations.backstage.io/orphan': 'true' } },
  [['filter', 'metadata.annotations.backstage.io/orphan=true']],
);
getEntitiesCase('getEntities: fields', { filter: { kind: 'System' }, fields: ['kind', 'metadata.name'] }, [
  ['filter', 'kind=System'],
  ['fields', 'kind,metadata.name'],
]);
getEntitiesCase(
  'getEntities: order desc',
  { filter: { kind: 'Component' }, order: { field: 'metadata.name', order: 'desc' } },
  [
    ['filter', 'kind=Component'],
    ['order', 'desc:metadata.name'],
  ],
);
getEntitiesCase(
  'getEntities: order by two fields',
  {
    filter: { kind: 'Component' },
    order: [
      { field: 'spec.type', order: 'asc' },
      { field: 'metadata.name', order: 'desc' },
    ],
  },
  [
    ['filter', 'kind=Component'],
    ['order', 'asc:spec.type'],
    ['order', 'desc:metadata.name'],
  ],
);
getEntitiesCase(
  'getEntities: offset and limit',
  { filter: { kind: 'Component' }, order: { field: 'metadata.name', order: 'asc' }, offset: 2, limit: 3 },
  [
    ['filter', 'kind=Component'],
    ['order', 'asc:metadata.name'],
    ['offset', '2'],
    ['limit', '3'],
  ],
);

// Pages of 4 through the `after` of each answer's Link header (rel="next"), as a Backstage caller follows them.
{
  const request = { filter: { kind: 'Component' }, order: { field: 'metadata.name', order: 'asc' }, limit: 4 };
  read('getEntities: after paging through Link rel="next"', {
    client: async (client, log) => {
      const items = [];
      const links = [];
      let after;
      for (let pages = 0; pages < MAX_PAGES; pages += 1) {
        const response = await client.getEntities({ ...request, ...(after && { after }) }, options);
        items.push(...response.items);
        const link = log[log.length - 1].link;
        links.push(link);
        const next = link?.match(/<([^>]*)>\s*;\s*rel="?next"?/);
        if (!next) {
          return { items, links };
        }
        after = new URL(next[1], baseUrl).searchParams.get('after');
        if (!after) {
          throw new Error(`the Link header names no after: ${link}`);
        }
      }
      throw new Error(`still paging after ${MAX_PAGES} pages`);
    },
    expected: () => oracle.getEntities({ filter: request.filter, order: request.order }),
    summary: response => ({ items: refs(response.items), ...(response.links && { links: response.links }) }),
  });
}

// --- reads: getEntitiesByRefs ----------------------------------------------------------------------------------

const BY_REFS = ['component:default/svc-03', 'component:default/does-not-exist', 'system:default/payments', 'api:default/search-api'];
const nullsAsUndefined = body => ({ items: body.items.map(item => item ?? undefined) });

read('getEntitiesByRefs: in order, undefined where missing', {
  client: c => c.getEntitiesByRefs({ entityRefs: BY_REFS }, options),
  direct: () => post('/entities/by-refs', { entityRefs: BY_REFS }),
  fromDirect: nullsAsUndefined,
  expected: () => oracle.getEntitiesByRefs({ entityRefs: BY_REFS }),
  summary: entities,
});
read('getEntitiesByRefs: filter', {
  client: c => c.getEntitiesByRefs({ entityRefs: BY_REFS, filter: { kind: 'Component' } }, options),
  direct: () => post('/entities/by-refs', { entityRefs: BY_REFS }, [['filter', 'kind=Component']]),
  fromDirect: nullsAsUndefined,
  expected: () => oracle.getEntitiesByRefs({ entityRefs: BY_REFS, filter: { kind: 'Component' } }),
  summary: entities,
});
read('getEntitiesByRefs: fields', {
  client: c => c.getEntitiesByRefs({ entityRefs: BY_REFS, fields: ['kind', 'metadata.name'] }, options),
  direct: () => post('/entities/by-refs', { entityRefs: BY_REFS, fields: ['kind', 'metadata.name'] }),
  fromDirect: nullsAsUndefined,
  expected: () => oracle.getEntitiesByRefs({ entityRefs: BY_REFS, fields: ['kind', 'metadata.name'] }),
  summary: projected,
});
{
  const request = {
    entityRefs: BY_REFS,
    query: { kind: { $in: ['System', 'API'] } },
    filter: { 'metadata.namespace': 'default' },
  };
  read('getEntitiesByRefs: query predicate with filter', {
    client: c => c.getEntitiesByRefs(request, options),
    direct: () =>
      post('/entities/by-refs', {
        entityRefs: BY_REFS,
        query: { $all: [{ kind: { $in: ['System', 'API'] } }, { 'metadata.namespace': 'default' }] },
      }),
    fromDirect: nullsAsUndefined,
    expected: () => oracle.getEntitiesByRefs(request),
    summary: entities,
  });
}

// --- reads: queryEntities (GET by-query) -------------------------------------------------------------------------

function queryCase(name, request, query, summary = page) {
  read(name, {
    client: c => c.queryEntities(request, options),
    direct: () => get('/entities/by-query', query),
    expected: () => oracle.queryEntities(request),
    summary,
  });
}

queryCase('queryEntities: repeated key ORs its values', { filter: { kind: ['Component', 'System'] }, limit: 100 }, [
  ['filter', 'kind=Component,kind=System'],
  ['limit', '100'],
]);
queryCase(
  'queryEntities: fullTextFilter in given fields',
  { fullTextFilter: { term: 'PAY', fields: ['metadata.name', 'metadata.title'] }, limit: 100 },
  [
    ['limit', '100'],
    ['fullTextFilterTerm', 'PAY'],
    ['fullTextFilterFields', 'metadata.name,metadata.title'],
  ],
);
queryCase(
  'queryEntities: fullTextFilter without fields searches the sort field',
  { fullTextFilter: { term: 'pay' }, orderFields: { field: 'metadata.name', order: 'asc' }, limit: 100 },
  [
    ['limit', '100'],
    ['orderField', 'metadata.name,asc'],
    ['fullTextFilterTerm', 'pay'],
  ],
);
queryCase(
  'queryEntities: orderFields desc with limit',
  { filter: { kind: 'Component' }, orderFields: { field: 'metadata.name', order: 'desc' }, limit: 5 },
  [
    ['filter', 'kind=Component'],
    ['limit', '5'],
    ['orderField', 'metadata.name,desc'],
  ],
);
queryCase(
  'queryEntities: offset',
  { filter: { kind: 'Component' }, orderFields: { field: 'metadata.name', order: 'asc' }, offset: 3, limit: 4 },
  [
    ['filter', 'kind=Component'],
    ['limit', '4'],
    ['offset', '3'],
    ['orderField', 'metadata.name,asc'],
  ],
);
queryCase(
  'queryEntities: fields',
  { filter: { kind: 'System' }, fields: ['kind', 'metadata.name'], limit: 100 },
  [
    ['filter', 'kind=System'],
    ['limit', '100'],
    ['fields', 'kind,metadata.name'],
  ],
  pageProjected,
);
read("queryEntities: totalItems 'exclude'", {
  client: c => c.queryEntities({ filter: { kind: 'API' }, totalItems: 'exclude', limit: 100 }, options),
  direct: () =>
    get('/entities/by-query', [
      ['filter', 'kind=API'],
      ['limit', '100'],
      ['totalItems', 'exclude'],
    ]),
  expected: () => oracle.queryEntities({ filter: { kind: 'API' }, limit: 100 }),
  summary: page,
});

// Cursor paging: every entity once, in order; page 2's prevCursor brings page 1 back.
function cursorPaging(name, first) {
  read(name, {
    client: async (client, log) => {
      const pages = [];
      let response = await client.queryEntities(first, options);
      pages.push(response);
      for (let count = 0; response.pageInfo?.nextCursor && count < MAX_PAGES; count += 1) {
        response = await client.queryEntities({ cursor: response.pageInfo.nextCursor, limit: first.limit }, options);
        pages.push(response);
      }
      if (response.pageInfo?.nextCursor) {
        throw new Error(`still paging after ${MAX_PAGES} pages`);
      }
      let back = null;
      if (pages.length > 1 && pages[1].pageInfo?.prevCursor) {
        back = (await client.queryEntities({ cursor: pages[1].pageInfo.prevCursor, limit: first.limit }, options)).items;
      }
      return {
        items: pages.flatMap(p => p.items),
        totalItems: pages[0].totalItems,
        pageSizes: pages.map(p => p.items.length),
        firstPage: pages[0].items,
        back,
      };
    },
    expected: async () => {
      const { limit, ...all } = first;
      return oracle.queryEntities(all);
    },
    summary: response => ({
      items: refs(response.items),
      totalItems: response.totalItems ?? null,
      ...(response.pageSizes && {
        pageSizes: response.pageSizes,
        firstPage: refs(response.firstPage),
        back: response.back && refs(response.back),
      }),
    }),
  });
}

cursorPaging('queryEntities: cursor paging visits every entity once', { limit: 7 });
cursorPaging('queryEntities: cursor paging with filter and order', {
  filter: { kind: ['Component', 'API', 'System'] },
  orderFields: { field: 'metadata.name', order: 'asc' },
  limit: 4,
});

// --- reads: queryEntities with a predicate (POST by-query) ------------------------------------------------------

function predicateCase(name, request, body, summary = page) {
  read(name, {
    client: c => c.queryEntities(request, options),
    direct: () => post('/entities/by-query', body),
    expected: () => oracle.queryEntities(request),
    summary,
  });
}

{
  const q = { kind: { $in: ['Component', 'System'] } };
  predicateCase('queryEntities: query $in', { query: q, limit: 100 }, { query: q, limit: 100 });
}
{
  const q = { $any: [{ kind: 'API' }, { $all: [{ kind: 'Component' }, { 'spec.type': 'website' }] }] };
  predicateCase('queryEntities: query $any and $all', { query: q, limit: 100 }, { query: q, limit: 100 });
}
{
  const q = { $all: [{ kind: 'Component' }, { $not: { 'spec.lifecycle': 'production' } }] };
  predicateCase('queryEntities: query $not', { query: q, limit: 100 }, { query: q, limit: 100 });
}
{
  const q = { kind: 'Component', 'spec.system': { $exists: false } };
  predicateCase('queryEntities: query $exists false', { query: q, limit: 100 }, { query: q, limit: 100 });
}
{
  const q = { 'metadata.name': { $hasPrefix: 'WEB-' } };
  predicateCase('queryEntities: query $hasPrefix', { query: q, limit: 100 }, { query: q, limit: 100 });
}
{
  const q = { 'metadata.tags': { $contains: 'java' } };
  predicateCase('queryEntities: query $contains a tag', { query: q, limit: 100 }, { query: q, limit: 100 });
}
{
  const q = { relations: { $contains: { type: 'ownedBy', targetRef: 'group:default/team-a' } } };
  predicateCase('queryEntities: query $contains a relation', { query: q, limit: 100 }, { query: q, limit: 100 });
}
predicateCase(
  'queryEntities: query with filter',
  { query: { kind: 'Component' }, filter: { 'spec.type': 'service' }, limit: 100 },
  { query: { $all: [{ kind: 'Component' }, { 'spec.type': 'service' }] }, limit: 100 },
);
predicateCase(
  'queryEntities: query with fullTextFilter and orderFields',
  {
    query: { kind: 'Component' },
    fullTextFilter: { term: 'svc', fields: ['metadata.name'] },
    orderFields: { field: 'metadata.name', order: 'desc' },
    limit: 100,
  },
  {
    query: { kind: 'Component' },
    fullTextFilter: { term: 'svc', fields: ['metadata.name'] },
    orderBy: [{ field: 'metadata.name', order: 'desc' }],
    limit: 100,
  },
);
predicateCase(
  'queryEntities: query with fields',
  { query: { kind: 'System' }, fields: ['kind', 'metadata.name'], limit: 100 },
  { query: { kind: 'System' }, fields: ['kind', 'metadata.name'], limit: 100 },
  pageProjected,
);
cursorPaging('queryEntities: cursor paging continues a predicate query', {
  query: { kind: { $in: ['Component', 'API', 'System'] } },
  orderFields: { field: 'metadata.name', order: 'asc' },
  limit: 4,
});

// --- reads: streamEntities ------------------------------------------------------------------------------------

function streamCase(name, request) {
  read(name, {
    client: async (client, log) => ({ items: await collect(client.streamEntities(request, options)) }),
    expected: async () => ({ items: await collect(oracle.streamEntities(request)) }),
    summary: entities,
  });
}

streamCase('streamEntities: every entity once', { pageSize: 7 });
streamCase('streamEntities: filter', { filter: { kind: 'Component' }, pageSize: 5 });
streamCase('streamEntities: query predicate', { query: { kind: { $in: ['Component', 'System'] } }, pageSize: 4 });

// --- reads: single entities -------------------------------------------------------------------------------------

read('getEntityByRef', {
  client: c => c.getEntityByRef('component:default/svc-01', options),
  direct: () => get('/entities/by-name/component/default/svc-01'),
  expected: () => oracle.getEntityByRef('component:default/svc-01'),
  summary: one,
});
read('getEntityByRef: compound ref', {
  client: c => c.getEntityByRef({ kind: 'Component', namespace: 'default', name: 'svc-01' }, options),
  direct: () => get('/entities/by-name/Component/default/svc-01'),
  expected: () => oracle.getEntityByRef('component:default/svc-01'),
  summary: one,
});
read('getEntityByRef: missing is undefined', {
  client: c => c.getEntityByRef('component:default/does-not-exist', options),
  direct: () => get('/entities/by-name/component/default/does-not-exist'),
  summary: one,
});
read('getEntityByName (deprecated)', {
  client: c => c.getEntityByName({ kind: 'Component', name: 'svc-01' }, options),
  direct: () => get('/entities/by-name/Component/default/svc-01'),
  expected: () => oracle.getEntityByRef('component:default/svc-01'),
  summary: one,
});
read('getEntityAncestors', {
  client: c => c.getEntityAncestors({ entityRef: 'component:default/svc-01' }, options),
  direct: () => get('/entities/by-name/component/default/svc-01/ancestry'),
  summary: response => ({
    rootEntityRef: response.rootEntityRef ?? null,
    items: (response.items ?? []).map(item => ({ ref: refOf(item.entity), parents: item.parentEntityRefs ?? null })),
  }),
});

// --- reads: facets ----------------------------------------------------------------------------------------------

const FACETS = ['kind', 'spec.type', 'spec.lifecycle', 'relations.ownedBy', 'metadata.tags'];
read('getEntityFacets', {
  client: c => c.getEntityFacets({ facets: FACETS }, options),
  direct: () =>
    get(
      '/entity-facets',
      FACETS.map(facet => ['facet', facet]),
    ),
  expected: () => oracle.getEntityFacets({ facets: FACETS }),
  summary: facets,
});
read('getEntityFacets: filter', {
  client: c => c.getEntityFacets({ facets: ['spec.type', 'relations.ownedBy'], filter: { kind: 'Component' } }, options),
  direct: () =>
    get('/entity-facets', [
      ['facet', 'spec.type'],
      ['facet', 'relations.ownedBy'],
      ['filter', 'kind=Component'],
    ]),
  expected: () => oracle.getEntityFacets({ facets: ['spec.type', 'relations.ownedBy'], filter: { kind: 'Component' } }),
  summary: facets,
});
{
  const request = { facets: ['spec.type', 'kind'], query: { kind: { $in: ['Component', 'Resource'] } } };
  read('getEntityFacets: query predicate', {
    client: c => c.getEntityFacets(request, options),
    direct: () => post('/entity-facets', request),
    expected: () => oracle.getEntityFacets(request),
    summary: facets,
  });
}

// --- reads: locations -------------------------------------------------------------------------------------------

const { root, standalone, local } = payload.locations;
const registered = [root, standalone, local];

read('getLocations', {
  client: c => c.getLocations({}, options),
  direct: () => get('/locations'),
  fromDirect: body => ({ items: body.map(item => item.data) }),
  summary: locations,
});
read('queryLocations', {
  client: c => c.queryLocations({ limit: 100 }, options),
  direct: () => post('/locations/by-query', { limit: 100 }),
  summary: response => ({ items: locations(response), totalItems: response.totalItems ?? null }),
});
read('queryLocations: query predicate', {
  client: c => c.queryLocations({ query: { type: 'url' }, limit: 100 }, options),
  direct: () => post('/locations/by-query', { query: { type: 'url' }, limit: 100 }),
  summary: response => ({ items: locations(response), totalItems: response.totalItems ?? null }),
});
read('queryLocations: cursor paging', {
  client: async (client, log) => {
    const items = [];
    let response = await client.queryLocations({ limit: 1 }, options);
    items.push(...response.items);
    for (let count = 0; response.pageInfo?.nextCursor && count < MAX_PAGES; count += 1) {
      response = await client.queryLocations({ cursor: response.pageInfo.nextCursor }, options);
      items.push(...response.items);
    }
    return { items };
  },
  summary: locations,
});
read('streamLocations', {
  client: async (client, log) => ({ items: await collect(client.streamLocations({}, options)) }),
  summary: locations,
});
read('getLocationById', {
  client: c => c.getLocationById(String(root.id), options),
  direct: () => get(`/locations/${root.id}`),
  summary: location,
});
read('getLocationById: missing is undefined', {
  client: c => c.getLocationById('999999999', options),
  direct: () => get('/locations/999999999'),
  summary: location,
});
read('getLocationByRef', {
  client: c => c.getLocationByRef(`${root.type}:${root.target}`, options),
  summary: location,
});
read('getLocationByEntity: the Location entity of a registered file', {
  client: c => c.getLocationByEntity('location:default/interop-root', options),
  direct: () => get('/locations/by-entity/location/default/interop-root'),
  summary: location,
});
read('getLocationByEntity: an entity of a registered file', {
  client: c => c.getLocationByEntity({ kind: 'Resource', namespace: 'default', name: 'cache-01' }, options),
  direct: () => get('/locations/by-entity/Resource/default/cache-01'),
  summary: location,
});
read('getLocationByEntity: missing is undefined', {
  client: c => c.getLocationByEntity('component:default/does-not-exist', options),
  direct: () => get('/locations/by-entity/component/default/does-not-exist'),
  summary: location,
});

// --- validation and analysis (no writes) -----------------------------------------------------------------------

const VALID = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'to-validate' },
  spec: { type: 'service', lifecycle: 'production', owner: 'group:default/team-a' },
};
const INVALID = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'not a valid name!' },
  spec: { type: 'service', owner: 'group:default/team-a' },
};

function validateCase(name, entity, locationRef) {
  reads.push(async () => {
    await call(name, {
      client: c => c.validateEntity(entity, locationRef, options),
      direct: () => post('/validate-entity', { entity, location: locationRef }),
      fromDirect: () => ({ valid: true }),
    });
    const direct = cases[name].direct;
    if (direct.status === 400) {
      // as the client reads it: a 400 carries the reasons in `errors`
      direct.value = { valid: false, errors: direct.body?.errors ?? [] };
      cases[name].same = cases[name].ok && isDeepStrictEqual(cases[name].value, direct.value);
    }
  });
}

validateCase('validateEntity: valid', VALID, 'url:https://git.example.com/team-a/catalog-info.yaml');
validateCase('validateEntity: invalid, with its errors', INVALID, 'url:https://git.example.com/team-a/catalog-info.yaml');
validateCase('validateEntity: a file: location is refused', VALID, `file:${payload.files.localPath}`);
validateCase('validateEntity: a malformed location ref', VALID, 'no-type-here');

const analyzed = location => ({
  existingEntityFiles: (location.existingEntityFiles ?? []).map(file => ({
    location: file.location ?? null,
    isRegistered: file.isRegistered ?? null,
    ref: refOf(file.entity),
  })),
  generateEntities: location.generateEntities ?? null,
});

read('analyzeLocation: a registered file', {
  client: c => c.analyzeLocation({ location: { type: 'url', target: standalone.target } }, options),
  direct: () => post('/analyze-location', { location: { type: 'url', target: standalone.target } }),
  summary: analyzed,
});

// Reads first, a few at a time: the server answers each in its own thread.
async function pool(thunks, size) {
  let next = 0;
  const worker = async () => {
    while (next < thunks.length) {
      await thunks[next++]();
    }
  };
  await Promise.all(Array.from({ length: size }, worker));
}

await pool(reads, CONCURRENT_READS);

// --- writes -----------------------------------------------------------------------------------------------------

await call('refreshEntity', {
  client: c => c.refreshEntity('resource:default/cache-01', options),
  direct: () => post('/refresh', { entityRef: 'resource:default/cache-01' }),
  fromDirect: () => undefined,
});

const { target: extraTarget, moved: movedTarget } = payload.extra;
const added = response => ({
  location: location(response.location),
  entities: refs(response.entities ?? []),
  exists: response.exists ?? null,
});
const registeredTargets = async () => ((await get('/locations')).body ?? []).map(item => item.data?.target);

await call('addLocation: dryRun', {
  client: async (client, log) => {
    const response = await client.addLocation({ target: extraTarget, dryRun: true }, options);
    return { ...response, registeredAfter: (await registeredTargets()).includes(response.location?.target) };
  },
  direct: () => post('/locations', { type: 'url', target: extraTarget }, [['dryRun', 'true']]),
  fromDirect: body => ({ ...body, registeredAfter: false }),
  summary: response => ({ ...added(response), registeredAfter: response.registeredAfter }),
});
const addedLocation = await call('addLocation', {
  client: c => c.addLocation({ target: extraTarget }, options),
  summary: added,
});
const addedId = addedLocation?.location?.id;
if (addedId !== undefined) {
  cases.addLocation.direct = { ...(await get(`/locations/${addedId}`)) };
  cases.addLocation.direct.value = location(cases.addLocation.direct.body);
}
await call('addLocation: conflict', {
  client: c => c.addLocation({ target: extraTarget }, options),
  direct: () => post('/locations', { type: 'url', target: extraTarget }),
  summary: added,
});
await call("addLocation: onConflict 'refresh'", {
  client: c => c.addLocation({ target: extraTarget, onConflict: 'refresh' }, options),
  summary: added,
});
await call('addLocation: dryRun of a registered target', {
  client: c => c.addLocation({ target: extraTarget, dryRun: true }, options),
  summary: added,
});
await call('updateLocation', {
  client: c => c.updateLocation(String(addedId), { target: movedTarget }, options),
  direct: () => get(`/locations/${addedId}`),
  summary: location,
});
await call('removeLocationById', {
  client: c => c.removeLocationById(String(addedId), options),
  direct: () => get(`/locations/${addedId}`),
});
await call('analyzeLocation: an unregistered file', {
  client: c => c.analyzeLocation({ location: { type: 'url', target: extraTarget } }, options),
  direct: () => post('/analyze-location', { location: { type: 'url', target: extraTarget } }),
  summary: analyzed,
});

await call('removeEntityByUid: an orphan', {
  client: async (client, log) => {
    await client.removeEntityByUid(payload.uids.orphan, options);
    return { afterwards: one(await client.getEntityByRef('component:default/legacy-widget', options)) };
  },
  direct: () => get(`/entities/by-uid/${payload.uids.orphan}`),
});
await call('removeEntityByUid: a live entity is refused', {
  client: c => c.removeEntityByUid(payload.uids.live, options),
  direct: () => get(`/entities/by-uid/${payload.uids.live}`),
  fromDirect: one,
});

process.stdout.write(JSON.stringify({ snapshot: refs(catalog), registered, cases }));
