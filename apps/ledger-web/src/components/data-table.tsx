import { type ColumnDef, flexRender, getCoreRowModel, useReactTable } from '@tanstack/react-table';

export interface ColumnMeta {
  readonly numeric?: boolean;
  /** A header cell of the row (th scope="row"): the row's name for screen readers. */
  readonly rowHeader?: boolean;
}

/**
 * A small table drawn by TanStack Table (columns, cells, row ids), for the pages whose rows all fit
 * on screen: the rate card, the members. The history's long table is virtualised separately.
 */
export function DataTable<T>({
  data,
  columns,
  rowId,
  label,
  rowClassName,
  testId,
}: {
  data: readonly T[];
  // TanStack's column helper gives each accessor its own value type: `any` is its documented way to list them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  columns: ColumnDef<T, any>[];
  rowId: (row: T) => string;
  label: string;
  rowClassName?: (row: T) => string | undefined;
  testId?: string;
}) {
  const table = useReactTable({ data: data as T[], columns, getCoreRowModel: getCoreRowModel(), getRowId: rowId });
  const classOf = (meta: ColumnMeta | undefined) => (meta?.numeric ? 'numeric' : undefined);
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      <table className="simple" data-testid={testId}>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((h) => (
                <th key={h.id} scope="col" className={classOf(h.column.columnDef.meta as ColumnMeta | undefined)}>
                  {flexRender(h.column.columnDef.header, h.getContext())}
                </th>
              ))}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id} data-row={row.id} className={rowClassName?.(row.original)}>
              {row.getVisibleCells().map((cell) => {
                const meta = cell.column.columnDef.meta as ColumnMeta | undefined;
                const content = flexRender(cell.column.columnDef.cell, cell.getContext());
                return meta?.rowHeader ? (
                  <th key={cell.id} scope="row">
                    {content}
                  </th>
                ) : (
                  <td key={cell.id} className={classOf(meta)}>
                    {content}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
