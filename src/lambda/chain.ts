/**
 * The one middy chain every function uses (Powertools `examples/app` habit): a Powertools
 * logger with the Lambda context injected, and metrics flushed at the end of each invocation.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';

export const SERVICE = 'trailstory';
export const logger = new Logger({ serviceName: SERVICE });
export const metrics = new Metrics({ namespace: 'trailstory', serviceName: SERVICE });

/** Wraps a handler in the chain. */
export function chain<E, R>(handler: (event: E, context: Context) => Promise<R>) {
  return middy(handler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
