import { parseArgs } from 'node:util';
import { seedSampleCatalogue } from '../catalogue/samples.ts';
import { defaultPublicUrl, type Config } from '../config.ts';
import { checkPortFree, startServer } from '../main.ts';
import { UsageError, type Command } from './command.ts';
import { openServices } from './runtime.ts';

export const serveCommand: Command = {
  name: 'serve',
  usage: 'civic serve [--port N] [--host ADDRESS] [--seed]',
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { port: { type: 'string' }, host: { type: 'string' }, seed: { type: 'boolean', default: false } } });
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
      throw new UsageError(`--port is "${values.port}", which is not a port number. Use a whole number from 0 to 65535.`);
    }
    // Links in pages and API replies follow --port unless PUBLIC_URL names the address.
    const overrides: Partial<Config> = {};
    if (port !== undefined) {
      overrides.port = port;
      if (process.env.PUBLIC_URL === undefined || process.env.PUBLIC_URL === '') overrides.publicUrl = defaultPublicUrl(port);
    }
    const services = await openServices(overrides, { server: true });
    const listenPort = port ?? services.config.port;
    const listenHost = values.host ?? services.config.host;
    try {
      await checkPortFree(listenPort, listenHost);
    } catch (error) {
      await services.db.close();
      throw error;
    }
    // --seed loads the sample catalogue into an empty catalogue before listening, so /healthz answers only once the
    // samples are there.
    if (values.seed) {
      try {
        await seedSampleCatalogue(services);
      } catch (error) {
        await services.db.close();
        throw error;
      }
    }
    const server = await startServer(services, { port: listenPort, host: listenHost });
    // The job worker delivers webhooks and runs the daily agreement check; every instance runs one, and the queue
    // hands each job to one of them.
    await services.exchange.scheduleDailyCheck();
    // Retention runs at start-up and then daily; the job's unique key per date keeps it to one run a day.
    await services.gdpr.retention.schedule();
    services.exchange.worker.start();
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        services.logger.info({ signal }, 'server stopping');
        services.exchange.worker
          .stop()
          .then(() => server.close())
          .then(resolve, (error: unknown) => {
            services.logger.error({ err: error }, 'server did not stop cleanly');
            resolve();
          });
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    return 0;
  },
};
