import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RegistrySnapshot, SnapshotInstance } from '../model/snapshot.js';
import { createUpstream, hostPort } from './upstream.js';

function instance(ip: string, port: number, extra: Partial<SnapshotInstance> = {}): SnapshotInstance {
  return { ip, port, weight: 1, healthy: true, enabled: true, cluster: 'DEFAULT', metadata: {}, ...extra };
}

function snapshot(instances: SnapshotInstance[], name = 'svc'): RegistrySnapshot {
  return {
    revision: 1,
    namespaces: ['public'],
    services: [
      { namespace: 'public', group: 'DEFAULT_GROUP', name, instances },
      { namespace: 'other', group: 'DEFAULT_GROUP', name, instances: [instance('10.9.9.9', 1)] },
    ],
    mcpServers: [],
    consumers: [],
  };
}

const SERVICE = { type: 'service', namespace: 'public', group: 'DEFAULT_GROUP', service: 'svc' } as const;

function picks(n: number, pick: () => string | undefined): (string | undefined)[] {
  return Array.from({ length: n }, pick);
}

describe('createUpstream', () => {
  it('spreads picks by smooth weighted round robin, as nginx does', () => {
    const up = createUpstream(SERVICE, 'http', snapshot([
      instance('10.0.0.1', 80, { weight: 5 }), instance('10.0.0.2', 80, { weight: 1 }), instance('10.0.0.3', 80, { weight: 1 }),
    ]));
    assert.ok(up);
    assert.equal(up.size, 3);
    const seq = picks(7, () => up.pick()?.id);
    assert.deepEqual(seq, ['10.0.0.1:80', '10.0.0.1:80', '10.0.0.2:80', '10.0.0.1:80', '10.0.0.3:80', '10.0.0.1:80', '10.0.0.1:80']);
    const counts = new Map<string, number>();
    for (const id of picks(7000, () => up.pick()?.id)) counts.set(id as string, (counts.get(id as string) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(counts), { '10.0.0.1:80': 5000, '10.0.0.2:80': 1000, '10.0.0.3:80': 1000 });
  });

  it('honours decimal weights (Nacos weights are doubles)', () => {
    const up = createUpstream(SERVICE, 'http', snapshot([instance('10.0.0.1', 80, { weight: 0.5 }), instance('10.0.0.2', 80, { weight: 1.5 })]));
    const counts = new Map<string, number>();
    for (const id of picks(400, () => up?.pick()?.id)) counts.set(id as string, (counts.get(id as string) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(counts), { '10.0.0.1:80': 100, '10.0.0.2:80': 300 });
  });

  it('uses only healthy, enabled instances with a positive weight', () => {
    const up = createUpstream(SERVICE, 'http', snapshot([
      instance('10.0.0.1', 80, { healthy: false }), instance('10.0.0.2', 80, { enabled: false }), instance('10.0.0.3', 80, { weight: 0 }),
      instance('10.0.0.4', 8080),
    ]));
    assert.equal(up?.size, 1);
    assert.deepEqual(picks(3, () => up?.pick()?.baseUrl), ['http://10.0.0.4:8080', 'http://10.0.0.4:8080', 'http://10.0.0.4:8080']);
  });

  it('skips excluded targets and answers undefined when all are excluded', () => {
    const up = createUpstream(SERVICE, 'http', snapshot([instance('10.0.0.1', 80), instance('10.0.0.2', 80)]));
    const exclude = new Set(['10.0.0.1:80']);
    assert.deepEqual(picks(4, () => up?.pick(exclude)?.id), ['10.0.0.2:80', '10.0.0.2:80', '10.0.0.2:80', '10.0.0.2:80']);
    assert.equal(up?.pick(new Set(['10.0.0.1:80', '10.0.0.2:80'])), undefined);
    const single = createUpstream({ type: 'direct', address: '10.0.0.5', port: 81 }, 'http', snapshot([]));
    assert.equal(single?.pick(new Set(['10.0.0.5:81'])), undefined);
  });

  it('has size 0 for a service without usable instances or unknown to the snapshot', () => {
    assert.equal(createUpstream(SERVICE, 'http', snapshot([instance('10.0.0.1', 80, { healthy: false })]))?.size, 0);
    const unknown = createUpstream({ ...SERVICE, service: 'nope' }, 'http', snapshot([]));
    assert.equal(unknown?.size, 0);
    assert.equal(unknown?.pick(), undefined);
  });

  it('builds https and bracketed IPv6 base URLs', () => {
    const up = createUpstream(SERVICE, 'https', snapshot([instance('fd00::1', 8443)]));
    assert.deepEqual(up?.pick(), { id: '[fd00::1]:8443', baseUrl: 'https://[fd00::1]:8443' });
    assert.equal(hostPort('[::1]', 80), '[::1]:80');
    assert.equal(hostPort('api.example.com', 443), 'api.example.com:443');
  });

  it('keeps the namespace and group apart', () => {
    const up = createUpstream({ ...SERVICE, namespace: 'other' }, 'http', snapshot([instance('10.0.0.1', 80)]));
    assert.equal(up?.pick()?.id, '10.9.9.9:1');
  });

  it('answers direct addresses, URLs and none', () => {
    assert.deepEqual(createUpstream({ type: 'direct', address: '192.168.1.9', port: 9000 }, 'http', snapshot([]))?.pick(), {
      id: '192.168.1.9:9000', baseUrl: 'http://192.168.1.9:9000',
    });
    assert.deepEqual(createUpstream({ type: 'direct', address: '::1', port: 9000 }, 'https', snapshot([]))?.pick()?.baseUrl, 'https://[::1]:9000');
    assert.deepEqual(createUpstream({ type: 'url', url: 'https://api.example.com/v1//' }, 'http', snapshot([]))?.pick(), {
      id: 'https://api.example.com/v1', baseUrl: 'https://api.example.com/v1',
    });
    assert.equal(createUpstream({ type: 'none' }, 'http', snapshot([])), undefined);
  });

  it('gives each upstream its own round-robin state', () => {
    const snap = snapshot([instance('10.0.0.1', 80), instance('10.0.0.2', 80)]);
    const a = createUpstream(SERVICE, 'http', snap);
    const b = createUpstream(SERVICE, 'http', snap);
    assert.equal(a?.pick()?.id, '10.0.0.1:80');
    assert.equal(a?.pick()?.id, '10.0.0.2:80');
    assert.equal(b?.pick()?.id, '10.0.0.1:80');
  });
});
