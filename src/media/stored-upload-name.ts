/**
 * The client's file name without its folders, reduced to letters, digits, dots, dashes and
 * underscores, with the extension of the format found: blob keys stay safe and the file is served
 * with its true type. The stem starts with a letter or digit and ends with no dot, so no name a
 * client picks can put `..` into the key (which every blob store refuses).
 */
export function storedUploadName(clientName: string | undefined, extension: string): string {
  const stem = (clientName ?? 'upload')
    .replace(/^.*[\\/]/, '')
    .replace(/\.[^.]*$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 100)
    .replace(/\.+$/, '');
  return `${stem || 'upload'}.${extension}`;
}
