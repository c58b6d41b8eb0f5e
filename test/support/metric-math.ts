/**
 * Evaluates the subset of CloudWatch metric math the alarms use — numbers, ids, + - * /,
 * comparisons and IF(cond, then, else) — over one datapoint per id.
 */
export function evaluateMetricMath(expression: string, values: Record<string, number>): number {
  const tokens = expression.match(/\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|>=|<=|==|!=|[-+*/(),<>]/g) ?? [];
  let position = 0;
  const peek = () => tokens[position];
  const take = (expected?: string) => {
    const token = tokens[position++];
    if (expected !== undefined && token !== expected) throw new Error(`expected ${expected}, got ${token} in ${expression}`);
    return token!;
  };

  const primary = (): number => {
    const token = take();
    if (token === '(') {
      const value = comparison();
      take(')');
      return value;
    }
    if (token === '-') return -primary();
    if (/^\d/.test(token)) return Number(token);
    if (token === 'IF') {
      take('(');
      const condition = comparison();
      take(',');
      const whenTrue = comparison();
      take(',');
      const whenFalse = comparison();
      take(')');
      return condition !== 0 ? whenTrue : whenFalse;
    }
    if (!(token in values)) throw new Error(`no value for ${token} in ${expression}`);
    return values[token]!;
  };
  const product = (): number => {
    let value = primary();
    while (peek() === '*' || peek() === '/') value = take() === '*' ? value * primary() : value / primary();
    return value;
  };
  const sum = (): number => {
    let value = product();
    while (peek() === '+' || peek() === '-') value = take() === '+' ? value + product() : value - product();
    return value;
  };
  const comparison = (): number => {
    const left = sum();
    const operator = peek();
    if (!operator || !['>=', '<=', '>', '<', '==', '!='].includes(operator)) return left;
    take();
    const right = sum();
    const result = { '>=': left >= right, '<=': left <= right, '>': left > right, '<': left < right, '==': left === right, '!=': left !== right }[operator];
    return result ? 1 : 0;
  };

  const value = comparison();
  if (position !== tokens.length) throw new Error(`unexpected ${peek()} in ${expression}`);
  return value;
}
