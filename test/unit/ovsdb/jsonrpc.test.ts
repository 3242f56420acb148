// JSON-RPC 1.0 messages as ovsdb-server sends them: requests (its echo), notifications (update,
// id null), responses; anything else is a typed error, never an exception.

import { expect } from 'chai';
import { describeRpcError, encodeRequest, encodeResponse, parseRpcMessage } from '../../../controller/ovsdb/jsonrpc.js';

describe('OVSDB JSON-RPC messages', () => {
  it('tells requests, notifications and responses apart', () => {
    expect(parseRpcMessage('{"id":"echo","method":"echo","params":[]}')).to.deep.equal({ ok: true, message: { kind: 'request', method: 'echo', params: [], id: 'echo' } });
    expect(parseRpcMessage('{"id":null,"method":"update","params":["m",{}]}')).to.deep.equal({ ok: true, message: { kind: 'notification', method: 'update', params: ['m', {}] } });
    expect(parseRpcMessage('{"id":3,"result":{"a":1},"error":null}')).to.deep.equal({ ok: true, message: { kind: 'response', id: 3, result: { a: 1 }, error: null } });
    expect(parseRpcMessage('{"id":4,"result":null,"error":{"error":"unknown database"}}')).to.deep.include({ ok: true });
  });

  it('turns malformed messages into errors that quote a bounded excerpt', () => {
    const cases = ['{"id":1', '[1]', '{"method":"update","params":{}}', '{"id":1,"foo":2}', `{"x":"${'z'.repeat(10_000)}"}`];
    for (const text of cases) {
      const r = parseRpcMessage(text);
      expect(r.ok, text.slice(0, 30)).to.equal(false);
      if (!r.ok) expect(r.error.length).to.be.below(300);
    }
  });

  it('encodes requests and echo replies as RFC 7047 expects', () => {
    expect(JSON.parse(encodeRequest(7, 'monitor', ['Open_vSwitch', 'm', {}]))).to.deep.equal({ method: 'monitor', params: ['Open_vSwitch', 'm', {}], id: 7 });
    expect(JSON.parse(encodeResponse('echo', ['a']))).to.deep.equal({ result: ['a'], error: null, id: 'echo' });
    expect(describeRpcError({ error: 'syntax error', details: 'unknown column' })).to.equal('syntax error: unknown column');
  });
});
