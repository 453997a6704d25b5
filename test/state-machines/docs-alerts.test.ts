import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC_NAMES } from '../../shared/domain/metrics';
import { readmeBlock, sampleFailureAlert, sampleSpikeAlert } from './alert-samples';

const readme = readFileSync(join(process.cwd(), 'docs', 'alerts.md'), 'utf8');

describe('docs/alerts.md', () => {
  it('shows the alerts exactly as the alert code renders them', () => {
    expect(readme).toContain(`\`\`\`text\n${readmeBlock(sampleFailureAlert())}\n\`\`\``);
    expect(readme).toContain(`\`\`\`text\n${readmeBlock(sampleSpikeAlert())}\n\`\`\``);
  });

  it('lists every metric the stage functions publish', () => {
    for (const name of Object.values(METRIC_NAMES)) expect(readme).toContain(`| \`${name}\` |`);
  });
});
