import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TERM_CHARS, MAX_TEXT_CHARS, stem, tokenize } from './tokenize.js';

describe('tokenize', () => {
  it('splits snake_case, kebab-case, dotted and camelCase identifiers', () => {
    assert.deepEqual(tokenize('get_user_info'), ['get', 'user', 'info']);
    assert.deepEqual(tokenize('list-pull-requests'), ['list', 'pull', 'request']);
    assert.deepEqual(tokenize('listPullRequests'), ['list', 'pull', 'request']);
    assert.deepEqual(tokenize('HTTPServerURL'), ['http', 'server', 'url']);
    assert.deepEqual(tokenize('github__search.code/v2'), ['github', 'search', 'code', 'v', '2']);
  });

  it('starts a new word where letters meet digits', () => {
    assert.deepEqual(tokenize('weather-forecast15days'), ['weather', 'forecast', '15', 'day']);
    assert.deepEqual(tokenize('PM2.5'), tokenize('pm2.5'));
    assert.deepEqual(tokenize('kuaixun2'), ['kuaixun', '2']);
  });

  it('lower-cases, drops stop words and keeps duplicates (term frequency counts)', () => {
    assert.deepEqual(tokenize('What is the Weather in the city, weather!'), ['weather', 'citi', 'weather']);
  });

  it('stems so that inflections of a word meet', () => {
    for (const [a, b] of [
      ['issues', 'issue'],
      ['queries', 'query'],
      ['creating', 'create'],
      ['created', 'creates'],
      ['running', 'run'],
      ['repositories', 'repository'],
      ['addresses', 'address'],
    ] as const) {
      assert.equal(stem(a), stem(b), `${a} / ${b}`);
    }
    assert.equal(stem('status'), 'status');
    assert.equal(stem('analysis'), 'analysis');
    assert.equal(stem('fill'), 'fill');
    assert.equal(stem('ip'), 'ip');
    assert.equal(stem('v4'), 'v4');
  });

  it('cuts Chinese, Japanese and Korean runs into character bigrams, a lone character into itself', () => {
    assert.deepEqual(tokenize('查询天气预报'), ['查询', '询天', '天气', '气预', '预报']);
    assert.deepEqual(tokenize('天'), ['天']);
    assert.deepEqual(tokenize('获取IP地址'), ['获取', 'ip', '地址']);
    assert.deepEqual(tokenize('株式会社'), ['株式', '式会', '会社']);
    assert.deepEqual(tokenize('한국어 검색'), ['한국', '국어', '검색']);
  });

  it('normalises compatibility forms (full-width letters and digits) before splitting', () => {
    assert.deepEqual(tokenize('ＧＩＴＨＵＢ　１２３'), ['github', '123']);
  });

  it('treats punctuation, emoji and control characters as separators', () => {
    assert.deepEqual(tokenize('🚀 deploy\u0000now!!! ¿ok?'), ['deploy', 'now', 'ok']);
    assert.deepEqual(tokenize('lone\ud800surrogate\udfff天气\ud83d'), ['lone', 'surrogat', '天气']);
  });

  it('yields no term for empty, blank or non-string input', () => {
    assert.deepEqual(tokenize(''), []);
    assert.deepEqual(tokenize('  \n\t '), []);
    assert.deepEqual(tokenize('the of and'), []);
    for (const bad of [undefined, null, 42, {}, ['weather'], Symbol('x')]) assert.deepEqual(tokenize(bad), []);
  });

  it('reads a bounded prefix of huge text and cuts runaway terms', () => {
    const huge = 'weather '.repeat(MAX_TEXT_CHARS);
    assert.equal(tokenize(huge).length, MAX_TEXT_CHARS / 'weather '.length);
    const [long] = tokenize('x'.repeat(5_000));
    assert.equal(long?.length, MAX_TERM_CHARS);
  });
});
