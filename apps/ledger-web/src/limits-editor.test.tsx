// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { LedgerApiError } from './api';
import { LimitsEditor } from './components/limits-editor';

afterEach(cleanup);

function editor(onSave: (body: Record<string, number | null>) => Promise<void>) {
  render(
    <LimitsEditor
      title="Limits of ana"
      creditTypes={['email', 'mobile']}
      limits={{ email: 50 }}
      fallback={() => 'account default: 10'}
      onSave={onSave}
      onClose={() => undefined}
    />,
  );
}

describe('the limits editor', () => {
  it('labels each box by its credit type and says what applies without a limit of its own', () => {
    editor(vi.fn());
    expect((screen.getByLabelText('email') as HTMLInputElement).value).toBe('50');
    expect((screen.getByLabelText('mobile') as HTMLInputElement).value).toBe('');
    expect(screen.getByText('none of its own (account default: 10)')).toBeTruthy();
    // Only a type with a limit of its own can have it removed.
    expect(screen.getAllByLabelText('Remove the limit')).toHaveLength(1);
  });

  it('sends the explicit removal as null', async () => {
    const onSave = vi.fn().mockResolvedValue(undefined);
    editor(onSave);
    fireEvent.click(screen.getByLabelText('Remove the limit'));
    expect((screen.getByLabelText('email') as HTMLInputElement).disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('mobile'), { target: { value: '30' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save limits' }));
    await waitFor(() => expect(onSave).toHaveBeenCalledWith({ email: null, mobile: 30 }));
  });

  it('shows the API’s 400 next to the field it names, and the message above the buttons', async () => {
    const onSave = vi
      .fn()
      .mockRejectedValue(
        new LedgerApiError(400, 'VALIDATION_FAILED', 'request validation failed', undefined, [{ field: 'creditTypes.mobile', reason: 'must be an integer' }]),
      );
    editor(onSave);
    fireEvent.change(screen.getByLabelText('mobile'), { target: { value: '1.5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save limits' }));
    await screen.findByRole('alert');
    const mobile = screen.getByLabelText('mobile');
    expect(mobile.getAttribute('aria-invalid')).toBe('true');
    const described = mobile
      .getAttribute('aria-describedby')!
      .split(' ')
      .map((id) => document.getElementById(id)?.textContent);
    expect(described).toContain('must be an integer');
    expect(screen.getByRole('alert').textContent).toContain('Not valid: request validation failed');
  });

  it('does not send an emptied box; it asks for an explicit removal', () => {
    const onSave = vi.fn();
    editor(onSave);
    fireEvent.change(screen.getByLabelText('email'), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save limits' }));
    expect(onSave).not.toHaveBeenCalled();
    expect(screen.getByTestId('limit-error-email').textContent).toContain('Remove the limit');
  });
});
