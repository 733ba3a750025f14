import autocannon from 'autocannon';

/**
 * The HTTP bench's load generator, in a process of its own so that it never shares the server's
 * event loop: autocannon, one scenario given as JSON in argv[2], its figures printed as JSON.
 */
export interface LoadScenario {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  /** POST bodies: a consumption on one of `accounts` accounts (`bench_<n>`), each with a unique id. */
  readonly consumptionAccounts?: number;
  readonly path: string;
  readonly apiKey?: string;
  readonly connections: number;
  readonly seconds: number;
}

export interface LoadFigures {
  readonly requestsPerSecond: number;
  readonly requests: number;
  readonly latencyMsP50: number;
  readonly latencyMsP99: number;
  readonly non2xx: number;
  readonly errors: number;
  /** The load generator's own CPU time (user + system) per request, µs. */
  readonly generatorCpuUsPerRequest?: number;
}

function cpuUsPer(used: NodeJS.CpuUsage, requests: number): number | undefined {
  return requests > 0 ? (used.user + used.system) / requests : undefined;
}

async function main(): Promise<void> {
  const scenario = JSON.parse(process.argv[2]) as LoadScenario;
  const run = `${process.pid}${Date.now().toString(36)}`;
  let sequence = 0;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (scenario.apiKey) headers.authorization = `Bearer ${scenario.apiKey}`;
  const cpuBefore = process.cpuUsage();
  const result = await autocannon({
    url: scenario.url,
    connections: scenario.connections,
    duration: scenario.seconds,
    requests: [
      {
        method: scenario.method,
        path: scenario.path,
        headers,
        setupRequest: (request) => {
          if (scenario.consumptionAccounts === undefined) return request;
          const index = sequence++;
          // The same JSON the ledger gets: every request a new consumption id, accounts taken in turn.
          const account = `bench_${index % scenario.consumptionAccounts}`;
          const body = {
            consumptionId: `h${run}x${index}`,
            userId: `u${index % 50}`,
            creditType: 'email',
            feature: 'people_search',
            action: 'email_reveal',
            credits: 1,
          };
          return { ...request, path: scenario.path.replace('{account}', account), body: JSON.stringify(body) };
        },
      },
    ],
  });
  const figures: LoadFigures = {
    requestsPerSecond: result.requests.average,
    requests: result.requests.total,
    latencyMsP50: result.latency.p50,
    latencyMsP99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    generatorCpuUsPerRequest: cpuUsPer(process.cpuUsage(cpuBefore), result.requests.total),
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

void main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
