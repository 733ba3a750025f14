// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { LedgerApiError } from './api';
import { Failure, Loaded, Problems } from './components/states';

afterEach(cleanup);

describe('loading, empty and error states', () => {
  it('a 403 explains that the role may not see it', () => {
    render(<Failure error={new LedgerApiError(403, 'FORBIDDEN', 'a member key reads only its own usage', undefined)} />);
    expect(screen.getByRole('alert').textContent).toContain('Not allowed');
    expect(screen.getByRole('alert').textContent).toContain('a member key reads only its own usage');
  });

  it('a 503 after its retries says the ledger is busy, with a retry button', () => {
    const retry = vi.fn();
    render(<Failure error={new LedgerApiError(503, 'READ_MODELS_BEHIND', 'the read models are behind.', 1)} onRetry={retry} />);
    expect(screen.getByRole('alert').textContent).toContain('The ledger is busy');
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(retry).toHaveBeenCalledTimes(1);
  });

  it('a load shows loading, then the retries, keeps the last data while reloading', () => {
    const reload = () => undefined;
    const { rerender } = render(
      <Loaded state={{ status: 'loading', retrying: 0, reload }} what="the balances">
        {(d: string) => <p>{d}</p>}
      </Loaded>,
    );
    expect(screen.getByRole('status').textContent).toBe('Loading the balances…');
    rerender(
      <Loaded state={{ status: 'loading', retrying: 2, reload }} what="the balances">
        {(d: string) => <p>{d}</p>}
      </Loaded>,
    );
    expect(screen.getByRole('status').textContent).toContain('retrying (2)');
    rerender(
      <Loaded state={{ status: 'loading', retrying: 0, data: 'old figures', reload }} what="the balances">
        {(d: string) => <p>{d}</p>}
      </Loaded>,
    );
    expect(screen.getByText('old figures').closest('[aria-busy="true"]')).not.toBeNull();
  });

  it('lists what a link got wrong, and nothing when it is fine', () => {
    const { container, rerender } = render(<Problems problems={[]} />);
    expect(container.textContent).toBe('');
    rerender(<Problems problems={['“preset” must be one of today, 7d.']} />);
    expect(screen.getByRole('alert').textContent).toContain('Part of this link was not understood');
  });
});
