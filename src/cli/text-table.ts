/** Rows under a header, in columns as wide as their widest cell: what the listing commands print. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}
