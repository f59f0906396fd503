/** The README's availability arithmetic (row 20) is computed, not typed: this keeps it right. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
const percent = (x: number) => `${(x * 100).toFixed(2)} %`;
const hoursPerMonth = (availability: number) => (1 - availability) * 30 * 24;

describe('availability arithmetic in the README', () => {
  test('a synchronous chain of three 99.5 % services', () => {
    const chain = 0.995 ** 3;
    expect(readme).toContain(`0.995^3 = **${percent(chain)}**`);
    expect(readme).toContain(`about ${hoursPerMonth(chain).toFixed(1)} hours of failed`);
    expect(readme).toContain(`instead of ${hoursPerMonth(0.995).toFixed(1)} hours for one service`);
  });

  test('the asynchronous request path: Lambda x one DynamoDB write', () => {
    const path = 0.9995 * 0.9999;
    expect(readme).toContain(`0.9995 x 0.9999 = **${percent(path)}**`);
    expect(readme).toContain(`about ${Math.round(hoursPerMonth(path) * 60)} minutes a month`);
  });
});
