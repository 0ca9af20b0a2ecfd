// transform and branch.switch, run through tiny workflows on real database files with the real
// sandbox; validation of their configs and of the edges from a switch's case ports.
import { describe, expect, it } from 'vitest';
import { validateWorkflow } from '../../engine/validate/index.js';
import { chain, edge, node, workflow } from '../support/harness.js';
import { runWorkflow, testEngine } from '../support/engine.js';

/** trigger → switch "sw" (`cases`) → a code node per port (`{ via: port, input }`) → output. */
function switchFlow(id: string, cases: { port: string; when: string }[], ports: string[]) {
  return workflow(
    id,
    [
      node('start', 'trigger.manual'),
      node('sw', 'branch.switch', { cases }),
      ...ports.map((port) => node(`to-${port}`, 'code', { code: `return { via: '${port}', input };` })),
      node('end', 'output'),
    ],
    [edge('start', 'sw'), ...ports.flatMap((port) => [edge(`sw:${port}`, `to-${port}`), edge(`to-${port}`, 'end')])],
  );
}

function problemsOf(graph: ReturnType<typeof workflow>): string {
  return validateWorkflow(graph, testEngine().registry)
    .problems.map((problem) => problem.message)
    .join('\n');
}

describe('transform', () => {
  it('maps fields with expressions over the input, nesting dotted names', async () => {
    const graph = chain('map', [
      node('t', 'transform', {
        fields: [
          { name: 'total', value: 'input.items.reduce((sum, item) => sum + item.price, 0)' },
          { name: 'customer.name', value: '`${input.first} ${input.last}`' },
          { name: 'customer.vip', value: 'input.orders > 10' },
          { name: 'missing', value: 'input.nothing' },
        ],
      }),
    ]);
    const run = await runWorkflow(testEngine(), graph, {
      first: 'Ada',
      last: 'Lovelace',
      orders: 12,
      items: [{ price: 3 }, { price: 4 }],
    });
    expect(run.status).toBe('completed');
    // Only the mapped fields; an undefined value is null, as JSON has no undefined.
    expect(run.output).toEqual({ total: 7, customer: { name: 'Ada Lovelace', vip: true }, missing: null });
  });

  it('keeps the input fields with `keep`, setting the mapped ones over them (nested ones merged)', async () => {
    const graph = chain('keep', [
      node('t', 'transform', {
        keep: true,
        fields: [
          { name: 'amount', value: 'input.amount * 100' },
          { name: 'customer.tier', value: '"gold"' },
        ],
      }),
    ]);
    const run = await runWorkflow(testEngine(), graph, { id: 'r1', amount: 5, customer: { id: 7 } });
    expect(run.output).toEqual({ id: 'r1', amount: 500, customer: { id: 7, tier: 'gold' } });
    // No fields: the input's fields as they are, or nothing.
    const passThrough = chain('pass', [node('t', 'transform', { keep: true, fields: [] })]);
    expect((await runWorkflow(testEngine(), passThrough, { id: 'r1' })).output).toEqual({ id: 'r1' });
  });

  it('fails the node naming the field whose expression threw; the error port gets it when connected', async () => {
    const engine = testEngine();
    const fields = [
      { name: 'ok', value: '1' },
      { name: 'customer.city', value: 'input.customer.address.city' },
    ];
    const failed = await runWorkflow(engine, chain('throws', [node('t', 'transform', { fields })]), {
      customer: {},
    });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({
      nodeId: 't',
      kind: 'code.error',
      message: expect.stringMatching(
        /^fields\.1 \(customer\.city\): TypeError: cannot read property 'city' of undefined \(line 1\)$/,
      ),
    });
    // Not retried: the same input fails the same way.
    expect(failed.activations.find((activation) => activation.nodeId === 't')?.attempt).toBe(1);

    const multiLine = await runWorkflow(
      engine,
      chain('line', [node('t', 'transform', { fields: [{ name: 'x', value: '1 +\n  input.a.b' }] })]),
      {},
    );
    expect(multiLine.error?.message).toMatch(/^fields\.0 \(x\): TypeError: .* \(line 2\)$/);

    const handled = workflow(
      'handled',
      [node('start', 'trigger.manual'), node('t', 'transform', { fields }), node('end', 'output')],
      [edge('start', 't'), edge('t:error', 'end')],
    );
    const run = await runWorkflow(engine, handled, { customer: {} });
    expect(run.status).toBe('completed');
    expect(run.output).toMatchObject({ error: { message: expect.stringMatching(/^fields\.1 \(customer\.city\)/) } });
  });

  it('stops an endless expression at its time limit', async () => {
    const run = await runWorkflow(
      testEngine(),
      chain('loops', [
        node('t', 'transform', { timeoutMs: 200, fields: [{ name: 'x', value: '(() => { while (true) {} })()' }] }),
      ]),
      {},
    );
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ kind: 'code.timeout', message: expect.stringMatching(/^fields: .*200 ms/) });
  });

  it('validation names duplicate, empty and clashing names and syntax errors by field', () => {
    const problems = problemsOf(
      chain('bad', [
        node('t', 'transform', {
          fields: [
            { name: 'a', value: '1' },
            { name: 'a', value: '2' },
            { name: '', value: '3' },
            { name: 'a.b', value: '4' },
            { name: 'c..d', value: '5' },
            { name: 'e', value: 'input.(' },
            { name: 'f.__proto__', value: '6' },
          ],
        }),
      ]),
    );
    expect(problems).toMatch(/node "t" \(transform\) config\.fields\.1\.name: "a" is already a field/);
    expect(problems).toMatch(/config\.fields\.2\.name: is required/);
    expect(problems).toMatch(/config\.fields\.3\.name: "a\.b" and "a" both set "a"/);
    expect(problems).toMatch(/config\.fields\.4\.name: "c\.\.d" has an empty part/);
    expect(problems).toMatch(/config\.fields\.5\.value: syntax error/);
    expect(problems).toMatch(/config\.fields\.6\.name: "__proto__" cannot be a field name/);
    expect(problems).not.toMatch(/fields\.0/);
  });
});

describe('branch.switch', () => {
  const cases = [
    { port: 'refund', when: 'input.kind === "refund"' },
    { port: 'big', when: 'input.amount > 100' },
    { port: 'bigger', when: 'input.amount > 1000' },
  ];
  const graph = switchFlow('switch', cases, ['refund', 'big', 'bigger', 'default']);

  it('takes the port of the first case that matches, with the input unchanged, and skips the others', async () => {
    const engine = testEngine();
    const refund = await runWorkflow(engine, graph, { kind: 'refund', amount: 5000 });
    expect(refund.output).toEqual({ via: 'refund', input: { kind: 'refund', amount: 5000 } });
    expect(refund.activations.find((activation) => activation.nodeId === 'sw')?.port).toBe('refund');
    for (const other of ['big', 'bigger', 'default'])
      expect(refund.activations.find((activation) => activation.nodeId === `to-${other}`)?.status).toBe('skipped');
    // Both "big" and "bigger" hold: the first in order wins.
    const big = await runWorkflow(engine, graph, { kind: 'sale', amount: 5000 });
    expect(big.output).toEqual({ via: 'big', input: { kind: 'sale', amount: 5000 } });
  });

  it('takes `default` when no case matches; a later case is not evaluated once one matched', async () => {
    const engine = testEngine();
    const none = await runWorkflow(engine, graph, { kind: 'sale', amount: 5 });
    expect(none.output).toEqual({ via: 'default', input: { kind: 'sale', amount: 5 } });
    const shortCircuit = switchFlow(
      'short',
      [
        { port: 'first', when: 'true' },
        { port: 'second', when: 'input.no.such.thing' },
      ],
      ['first', 'second'],
    );
    expect((await runWorkflow(engine, shortCircuit, {})).output).toEqual({ via: 'first', input: {} });
    const throwing = await runWorkflow(engine, switchFlow('throwing', [{ port: 'a', when: 'input.x.y' }], ['a']), {});
    expect(throwing.error).toMatchObject({
      nodeId: 'sw',
      message: expect.stringMatching(/^cases\.0 \(a\): TypeError/),
    });
  });

  it('validation refuses an edge from a port the switch does not have, a duplicate or reserved port, bad syntax', () => {
    expect(problemsOf(graph)).toBe('');
    const noPort = switchFlow('no-port', cases, ['refund', 'small']);
    expect(problemsOf(noPort)).toMatch(
      /node "sw" \(branch\.switch\) has no output port "small" \(ports: "default", "error", "refund", "big", "bigger"\)/,
    );
    const duplicate = switchFlow(
      'duplicate',
      [
        { port: 'a', when: 'true' },
        { port: 'a', when: 'false' },
      ],
      ['a'],
    );
    expect(problemsOf(duplicate)).toMatch(/config\.cases\.1\.port: "a" is already a case/);
    const reserved = switchFlow(
      'reserved',
      [
        { port: 'default', when: 'true' },
        { port: 'error', when: 'true' },
        { port: 'no spaces', when: 'true' },
      ],
      [],
    );
    const text = problemsOf(reserved);
    expect(text).toMatch(/config\.cases\.0\.port: "default" is a port every switch has/);
    expect(text).toMatch(/config\.cases\.1\.port: "error" is a port every switch has/);
    expect(text).toMatch(/config\.cases\.2\.port: "no spaces" is not a port name/);
    const syntax = switchFlow('syntax', [{ port: 'a', when: 'input ===' }], ['a']);
    expect(problemsOf(syntax)).toMatch(/config\.cases\.0\.when: syntax error/);
    expect(problemsOf(switchFlow('empty', [], []))).toMatch(/config\.cases: needs at least one case/);
  });
});
