/**
 * Calls that arrive while earlier ones are on their way to the database, gathered so that one
 * statement serves them all: under load the statement's round trip, parsing and commit are shared
 * by many callers, and a lone call still goes at once. At most `inFlight` statements at once, the
 * user's choice: two keep a batch on its way while another is answered; one gathers twice as many
 * calls per statement, which is what counts when the database's own work per statement is the
 * cost (reads). A failed statement fails every call of its batch.
 */
export class Batches<Item, Answer> {
  private waiting: { item: Item; resolve: (answer: Answer) => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;

  constructor(
    /** Runs one batch; answers one answer per item, in their order. */
    private readonly run: (items: Item[]) => Promise<Answer[]>,
    private readonly limits: { inFlight: number; largest: number },
  ) {}

  add(item: Item): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.send();
    });
  }

  private send(): void {
    if (this.inFlight >= this.limits.inFlight || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0, this.limits.largest);
    this.inFlight++;
    this.run(batch.map((entry) => entry.item))
      .then(
        (answers) => batch.forEach((entry, index) => entry.resolve(answers[index])),
        (error: unknown) => batch.forEach((entry) => entry.reject(error)),
      )
      .finally(() => {
        this.inFlight--;
        this.send();
      });
  }
}
