import type { MouseEvent, ReactNode } from 'react';
import { navigate } from '../router';

/** An in-app link: a real href (open in a new tab works), navigation without a reload. */
export function Link({
  to,
  params,
  children,
  className,
  current,
}: {
  to: string;
  params?: URLSearchParams;
  children: ReactNode;
  className?: string;
  current?: boolean;
}) {
  const query = params?.toString();
  const href = `${to}${query ? `?${query}` : ''}`;
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to, params);
  };
  return (
    <a href={href} onClick={onClick} className={className} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}
