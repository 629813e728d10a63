/**
 * The Grafana dashboard and the Prometheus alert rules: valid documents that use only Hookyard's
 * metric names (and every one of them), with the alerts linked to a runbook section that exists.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

const ROOT = new URL('../../', import.meta.url).pathname;
const METRICS = [
  'hookyard_messages_ingested_total',
  'hookyard_attempts_total',
  'hookyard_attempt_duration_seconds',
  'hookyard_delivery_latency_seconds',
  'hookyard_deliveries',
  'hookyard_oldest_due_seconds',
  'hookyard_endpoints_circuit_open',
];

/** Metric names in a PromQL expression, histogram suffixes folded into their family. */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b(hookyard_[a-z_]+|up)\b/g)].map((m) =>
    m[1]!.replace(/_(bucket|sum|count)$/, ''),
  );
}

/** GitHub's anchor for each `##`/`###` heading of a markdown file. */
function anchors(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/^#{2,4} (.+)$/gm)].map((m) =>
      m[1]!
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    ),
  );
}

describe('monitoring', () => {
  it('the Grafana dashboard charts every Hookyard metric and nothing else', () => {
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/hookyard.json'), 'utf8')) as {
      uid: string;
      panels: {
        id: number;
        title: string;
        targets: { expr: string; refId: string }[];
        datasource: { uid: string };
      }[];
      templating: { list: { name: string; type: string }[] };
    };
    assert.ok(dashboard.uid);
    assert.ok(dashboard.templating.list.some((v) => v.type === 'datasource' && v.name === 'datasource'));
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    const used = new Set<string>();
    for (const panel of dashboard.panels) {
      assert.equal(panel.datasource.uid, `\${datasource}`, `${panel.title}: uses the data source variable`);
      assert.ok(panel.targets.length > 0, `${panel.title}: has a query`);
      for (const target of panel.targets) for (const metric of metricsIn(target.expr)) used.add(metric);
    }
    assert.deepEqual([...used].sort(), [...METRICS].sort());
  });

  it('the alert rules use Hookyard metrics and each links to its runbook section', () => {
    const rules = parse(readFileSync(join(ROOT, 'deploy/prometheus-alerts.yml'), 'utf8')) as {
      groups: {
        rules: {
          alert: string;
          expr: string;
          for: string;
          labels: { severity: string };
          annotations: Record<string, string>;
        }[];
      }[];
    };
    const runbook = anchors(readFileSync(join(ROOT, 'docs/operations.md'), 'utf8'));
    const all = rules.groups.flatMap((g) => g.rules);
    assert.ok(all.length >= 4);
    for (const rule of all) {
      assert.match(rule.alert, /^Hookyard[A-Z]\w+$/);
      assert.ok(['critical', 'warning', 'info'].includes(rule.labels.severity), `${rule.alert}: severity`);
      if (rule.for !== undefined) assert.match(rule.for, /^\d+[smh]$/, `${rule.alert}: for`);
      assert.ok(rule.annotations.summary, `${rule.alert}: summary`);
      for (const metric of metricsIn(rule.expr))
        assert.ok(metric === 'up' || METRICS.includes(metric), `${rule.alert}: unknown metric ${metric}`);
      const anchor = rule.annotations.runbook?.split('#')[1] ?? '';
      assert.ok(runbook.has(anchor), `${rule.alert}: docs/operations.md has a section #${anchor}`);
    }
  });
});
