/**
 * API error fields (`tools[0](get_forecast).requestTemplate.url`, `endpoint.url`) as people name
 * them ("tool get_forecast › request URL"), in the language shown. No DOM: unit-tested under Node.
 */

import type { TFunction } from 'i18next';

/** Translates a key of the `fields` group (the caller's i18next `t`). */
export type FieldTranslator = TFunction;

/** Known places inside a tool or a spec, longest first, with their label key. */
const PLACES: [RegExp, string][] = [
  [/^requestTemplate\.url$/, 'requestUrl'],
  [/^requestTemplate\.method$/, 'requestMethod'],
  [/^requestTemplate\.body$/, 'requestBody'],
  [/^requestTemplate\.headers\[(\d+)\]/, 'requestHeader'],
  [/^requestTemplate\.security/, 'credentials'],
  [/^requestTemplate$/, 'request'],
  [/^template\.request\.url$/, 'requestUrl'],
  [/^template\.request\.method$/, 'requestMethod'],
  [/^template\.request\.body$/, 'requestBody'],
  [/^template\.request\.headers/, 'requestHeaders'],
  [/^template\.request\.security/, 'credentials'],
  [/^template\.request/, 'request'],
  [/^template\.response\.body$/, 'responseTemplate'],
  [/^template\.response\.prependBody$/, 'prependBody'],
  [/^template\.response\.appendBody$/, 'appendBody'],
  [/^template\.response/, 'response'],
  [/^template\.errorResponseTemplate$/, 'errorTemplate'],
  [/^template\.argsPosition\.(.+)$/, 'argPosition'],
  [/^template\.timeoutMs$/, 'timeout'],
  [/^template$/, 'template'],
  [/^responseTemplate\.body$/, 'responseTemplate'],
  [/^responseTemplate\.prependBody$/, 'prependBody'],
  [/^responseTemplate\.appendBody$/, 'appendBody'],
  [/^responseTemplate/, 'response'],
  [/^errorResponseTemplate$/, 'errorTemplate'],
  [/^argsPosition\.(.+)$/, 'argPosition'],
  [/^inputSchema\/?(.*)$/, 'inputSchema'],
  [/^outputSchema\/?(.*)$/, 'outputSchema'],
  [/^inputSchema\.?(.*)$/, 'inputSchema'],
  [/^outputSchema\.?(.*)$/, 'outputSchema'],
  [/^description$/, 'description'],
  [/^title$/, 'title'],
  [/^name$/, 'name'],
  [/^enabled$/, 'enabled'],
  [/^timeoutMs$/, 'timeout'],
  [/^annotations/, 'annotations'],
  [/^endpoint\.url$/, 'endpointUrl'],
  [/^endpoint\.address$/, 'endpointAddress'],
  [/^endpoint\.port$/, 'endpointPort'],
  [/^endpoint/, 'endpoint'],
  [/^passthrough\.headers/, 'passthroughHeaders'],
  [/^passthrough\.cookies/, 'passthroughCookies'],
  [/^securitySchemes/, 'securitySchemes'],
  [/^config/, 'config'],
  [/^version$/, 'version'],
  [/^protocol$/, 'protocol'],
  [/^frontProtocol$/, 'frontProtocol'],
  [/^content$/, 'content'],
  [/^allow/, 'allow'],
  [/^arguments\.(.+)$/, 'argument'],
  [/^prompts/, 'prompts'],
];

function place(rest: string, t: FieldTranslator): string {
  for (const [re, key] of PLACES) {
    const m = re.exec(rest);
    if (!m) continue;
    const detail = m[1];
    if (key === 'requestHeader') return t(`fields.${key}`, { n: Number(detail) + 1 });
    if (key === 'argPosition' || key === 'argument') return t(`fields.${key}`, { name: detail });
    if ((key === 'inputSchema' || key === 'outputSchema') && detail) return `${t(`fields.${key}`)} › ${detail.replace(/^\//, '').replace(/\//g, ' › ')}`;
    return t(`fields.${key}`);
  }
  return rest;
}

/** A human name for an API error's field, or for a diff path (`tools[get_weather].description`). */
export function humanField(field: string, t: FieldTranslator): string {
  const f = field.replace(/^spec\./, '').replace(/^definition\./, '');
  // tools[0](name).rest (validation errors), tools[0].rest, tools[name].rest (diffs)
  const tool = /^tools\[(\d+)\]\(([^)]*)\)\.?(.*)$/.exec(f) ?? /^tools\[(\d+)\]()\.?(.*)$/.exec(f) ?? /^tools\[()([^\]]+)\]\.?(.*)$/.exec(f);
  if (tool) {
    const name = tool[2] || `#${Number(tool[1]) + 1}`;
    const rest = tool[3] ?? '';
    return rest ? `${t('fields.tool', { name })} › ${place(rest, t)}` : t('fields.tool', { name });
  }
  const prompt = /^prompts\[([^\]]+)\]\.?(.*)$/.exec(f);
  if (prompt) return prompt[2] ? `${t('fields.prompt', { name: prompt[1] })} › ${prompt[2]}` : t('fields.prompt', { name: prompt[1] });
  const scheme = /^securitySchemes\[([^\]]+)\]\.?(.*)$/.exec(f);
  if (scheme) return scheme[2] ? `${t('fields.scheme', { name: scheme[1] })} › ${scheme[2]}` : t('fields.scheme', { name: scheme[1] });
  return place(f, t);
}
