import 'reflect-metadata';
import { Body, CanActivate, Controller, ExecutionContext, Get, HttpCode, Injectable, Module, Param, Post, UnauthorizedException } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createValidationPipe } from '@credit-ledger/http';
import { ConsumeCreditsDto } from '@credit-ledger/ledger';

/**
 * The framework floor, for the choice of the HTTP platform: a Nest app with the ledger's own
 * per-request layers that are not ledger work (a global guard resolving the bearer key from an
 * in-memory cache, the ledger's ValidationPipe on the ledger's ConsumeCreditsDto) and nothing
 * else: no store, no logging. FRAMEWORK=express|fastify picks the adapter. Run as its own process.
 */
const KEY = `Bearer ${process.env.BENCH_API_KEY ?? ''}`;
const answer = { consumptionId: 'c', creditsCharged: 1, alreadyPurchased: false, position: 1 };

@Injectable()
class CachedKeyGuard implements CanActivate {
  private readonly keys = new Map([[KEY, { role: 'admin' }]]);

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ url: string; headers: Record<string, string | undefined> }>();
    if (request.url.startsWith('/health')) return true;
    if (!this.keys.has(request.headers.authorization ?? '')) throw new UnauthorizedException();
    return true;
  }
}

@Controller()
class FloorController {
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Post('v1/accounts/:accountId/consumptions')
  @HttpCode(201)
  consume(@Param('accountId') accountId: string, @Body() body: ConsumeCreditsDto) {
    return { ...answer, accountId, consumptionId: body.consumptionId };
  }
}

@Module({ controllers: [FloorController], providers: [{ provide: APP_GUARD, useClass: CachedKeyGuard }] })
class FloorModule {}

async function main(): Promise<void> {
  const adapter = process.env.FRAMEWORK === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(FloorModule, adapter, { logger: false });
  app.useGlobalPipes(createValidationPipe());
  await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
}

void main();
