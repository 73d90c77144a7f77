// SPDX-License-Identifier: MIT
//
// The spec as the checks use it: one Ajv instance holding the component
// schemas (compiled validators cached per schema), local $ref resolution, and
// the table of operations (method, template, parameters) with the router that
// maps a URL path to its path item.

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

import { spec } from './options.mjs';

const SCHEMA_ID = 'urn:offlinefiles:openapi:schemas';
const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
addFormats(ajv);
// OpenAPI's own schema keywords (annotations only).
ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);

// Component schemas live in one Ajv document; '#/components/schemas/X' refs point into it.
function rewriteRefs(node) {
    if (Array.isArray(node)) return node.map(rewriteRefs);
    if (!node || typeof node !== 'object') return node;
    const out = {};
    for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/'))
            out[k] = `${SCHEMA_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`;
        else out[k] = rewriteRefs(v);
    }
    return out;
}
ajv.addSchema({ $id: SCHEMA_ID, $defs: rewriteRefs(spec.components?.schemas ?? {}) });

const validators = new Map();
function validator(schema) {
    let v = validators.get(schema);
    if (!v) {
        v = ajv.compile(rewriteRefs(schema));
        validators.set(schema, v);
    }
    return v;
}
function schemaErrors(schema, value, where) {
    let v;
    try {
        v = validator(schema);
    } catch (e) {
        return [`${where}: the spec's schema does not compile: ${e.message}`];
    }
    if (v(value)) return [];
    return v.errors.map((e) => `${where}${e.instancePath} ${e.message}` +
        (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''));
}

// Follow a local $ref (responses, parameters, headers, request bodies).
function deref(obj) {
    let seen = 0;
    while (obj && obj.$ref) {
        if (++seen > 20) throw new Error(`$ref loop at ${obj.$ref}`);
        const parts = obj.$ref.replace(/^#\//, '').split('/')
            .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
        obj = parts.reduce((o, p) => o?.[p], spec);
        if (!obj) throw new Error(`unresolved $ref`);
    }
    return obj;
}

const METHODS = ['get', 'head', 'put', 'post', 'delete', 'patch', 'options', 'trace'];
const ops = [];
const pathItems = [];
for (const [template, item] of Object.entries(spec.paths)) {
    // {path} spans segments (see the Path parameter); other parameters are one segment.
    const names = [];
    const rx = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_, n) => {
        names.push(n);
        return n === 'path' ? '(.+)' : '([^/]+)';
    });
    const entry = { template, item, regex: new RegExp(`^${rx}$`), names, methods: [] };
    pathItems.push(entry);
    for (const m of METHODS) {
        if (!item[m]) continue;
        const params = new Map();
        for (const p of [...(item.parameters ?? []), ...(item[m].parameters ?? [])]) {
            const d = deref(p);
            params.set(`${d.in}:${d.name}`, d);
        }
        const op = { id: item[m].operationId, method: m.toUpperCase(), template, op: item[m], params, entry };
        entry.methods.push(op.method);
        ops.push(op);
    }
}

function findPath(pathname) {
    // Literal templates win over templated ones, as in any router.
    const hits = pathItems.filter((p) => p.regex.test(pathname));
    hits.sort((a, b) => a.names.length - b.names.length);
    return hits[0];
}

export { deref, findPath, ops, schemaErrors };
