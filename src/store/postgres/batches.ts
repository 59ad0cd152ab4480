/**
 * Calls that arrive while an earlier statement is on its way to the database, gathered so that
 * the next statement serves them all: under load the statement's round trip, parsing and commit
 * are shared by many callers, and a lone call still goes at once. One statement at a time: two
 * in flight carried half as many calls each, and the database's own work per statement is what
 * counts on a machine it shares (measured for reads and inserts alike; see their users). A failed
 * statement fails every call of its batch.
 *
 * `lingerMs`, for statements whose fixed cost dwarfs a row's (a commit): with none in flight, a
 * call waits up to that long for as many calls as the last batch held. Under load the answers to
 * a batch bring its callers back one by one, and without the wait the first of them went alone,
 * followed by all the others: half the statements were of one row. After a lone call (a last
 * batch of one) the next goes at once, so a quiet server adds no wait; when fewer callers come
 * back, one wait sets the smaller size.
 */
export class Batches<Item, Answer> {
  private waiting: { item: Item; resolve: (answer: Answer) => void; reject: (error: unknown) => void }[] = [];
  private sending = false;
  /** The last batch's size: what a call waits for, with none in flight (see lingerMs). */
  private expected = 0;
  private lingering: NodeJS.Timeout | undefined;

  constructor(
    /** Runs one batch; answers one answer per item, in their order. */
    private readonly run: (items: Item[]) => Promise<Answer[]>,
    private readonly limits: { largest: number; lingerMs?: number },
  ) {}

  add(item: Item): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.send();
    });
  }

  private send(): void {
    if (this.sending || this.waiting.length === 0) return;
    if (this.waiting.length < this.expected && this.limits.lingerMs !== undefined) {
      this.lingering ??= setTimeout(() => {
        this.lingering = undefined;
        this.expected = 0;
        this.send();
      }, this.limits.lingerMs);
      return;
    }
    clearTimeout(this.lingering);
    this.lingering = undefined;
    const batch = this.waiting.splice(0, this.limits.largest);
    this.expected = batch.length;
    this.sending = true;
    this.run(batch.map((entry) => entry.item))
      .then(
        (answers) => batch.forEach((entry, index) => entry.resolve(answers[index])),
        (error: unknown) => batch.forEach((entry) => entry.reject(error)),
      )
      .finally(() => {
        this.sending = false;
        this.send();
      });
  }
}
