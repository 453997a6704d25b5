import { readFileSync } from 'node:fs';
import { choiceRuleLabel, END, START, stateMachineGraph } from '../../console/data';
import { DEFAULT_DEFINITION_PATH } from '../../local/definition';

/** The run console's graph of the pipeline: every state and every transition the ASL declares. */
describe('console state machine graph', () => {
  const asl = JSON.parse(readFileSync(DEFAULT_DEFINITION_PATH, 'utf8')) as {
    StartAt: string;
    States: Record<string, Record<string, unknown>>;
  };
  const graph = stateMachineGraph(asl, 'medallion-pipeline');
  const edge = (from: string, to: string) => graph.edges.filter((e) => e.from === from && e.to === to);

  test('one node per state, plus Start and End', () => {
    expect(graph.nodes.map((n) => n.id).sort()).toEqual([START, END, ...Object.keys(asl.States)].sort());
    expect(edge(START, asl.StartAt)).toHaveLength(1);
  });

  test('every Next, Choice, Default and Catch is an edge of its kind; terminal states reach End', () => {
    for (const [name, state] of Object.entries(asl.States)) {
      if (typeof state['Next'] === 'string')
        expect(edge(name, state['Next']).map((e) => e.kind)).toContain('next');
      for (const rule of (state['Choices'] as Array<{ Next: string }> | undefined) ?? [])
        expect(edge(name, rule.Next).map((e) => e.kind)).toContain('choice');
      if (typeof state['Default'] === 'string')
        expect(edge(name, state['Default']).map((e) => e.kind)).toContain('default');
      for (const c of (state['Catch'] as Array<{ Next: string }> | undefined) ?? [])
        expect(edge(name, c.Next).map((e) => e.kind)).toContain('catch');
      const terminal = state['End'] === true || state['Type'] === 'Fail' || state['Type'] === 'Succeed';
      expect(edge(name, END)).toHaveLength(terminal ? 1 : 0);
    }
    expect(edge('Run bronze job', "Keep the run's error")[0]?.label).toBe('States.ALL');
  });

  test('a Choice rule reads as a condition', () => {
    expect(choiceRuleLabel({ Variable: '$.run.fromStage', StringEquals: 'silver', Next: 'x' })).toBe(
      'run.fromStage == "silver"',
    );
    expect(choiceRuleLabel({ Variable: '$.run.settleSeconds', NumericGreaterThan: 0 })).toBe(
      'run.settleSeconds > 0',
    );
    expect(
      choiceRuleLabel({
        Not: {
          And: [
            { Variable: '$.a', IsPresent: true },
            { Variable: '$.b', IsPresent: true },
          ],
        },
      }),
    ).toBe('not (a IsPresent and b IsPresent)');
  });
});
