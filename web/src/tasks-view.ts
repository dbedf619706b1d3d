// The signed-in screen: counts, filters, search, paging, create/edit/complete/delete, and the
// categories (their panel, the category filter, a task's category).

import { ApiError, PRIORITIES, newIdempotencyKey, type ApiClient, type Category, type Priority, type Task, type TaskInput, type TaskPage, type TaskQuery, type User } from './api';
import { editForm, submit } from './auth-views';
import { CategoriesPanel, swatch } from './categories-view';
import { h } from './dom';
import { control, describe, field, formAlert } from './forms';
import { VerifyBanner } from './recovery-views';

/** Tasks per page: small enough that "Load more" shows up in ordinary use. */
export const PAGE_SIZE = 10;

export interface TasksCallbacks {
  loggedOut(notice: string): void;
  showAccount(): void;
}

const PRIORITY_OPTIONS = PRIORITIES.map((p) => [p, capitalize(p)] as const);

type Sort = NonNullable<TaskQuery['sort']>;
type Order = NonNullable<TaskQuery['order']>;
/** The list's orders, as `<sort>-<order>` values of one select (the first is the API's default). */
const SORT_OPTIONS = [
  ['created-desc', 'Newest first'],
  ['created-asc', 'Oldest first'],
  ['due-asc', 'Due date, soonest first'],
  ['due-desc', 'Due date, latest first'],
  ['priority-desc', 'Priority, high to low'],
  ['priority-asc', 'Priority, low to high'],
] as const satisfies readonly (readonly [`${Sort}-${Order}`, string])[];
type SortChoice = (typeof SORT_OPTIONS)[number][0];

export class TasksView {
  readonly element: HTMLElement;
  private user: User | null = null;
  private items: Task[] = [];
  private nextCursor: string | null = null;
  private counts: TaskPage['counts'] | null = null;
  private editingId: string | null = null;
  private filters: {
    completed: '' | 'true' | 'false';
    priority: '' | Priority;
    q: string;
    category: string;
    overdue: boolean;
    sort: SortChoice;
  } = {
    completed: '',
    priority: '',
    q: '',
    category: '',
    overdue: false,
    sort: 'created-desc',
  };
  private readonly categoriesPanel: CategoriesPanel;
  /** Category choosers kept in step with the categories: the filter's and the new task's. */
  private readonly categoryFilter: HTMLSelectElement;
  private readonly newTaskCategory: HTMLSelectElement;

  private readonly who = h('p', { class: 'who' });
  private readonly countsLine = h('p', { id: 'counts', 'aria-live': 'polite' });
  private readonly listAlert = h('div', { class: 'form-error', role: 'alert' });
  private readonly status = h('p', { class: 'notice', role: 'status' });
  private readonly list = h('ul', { class: 'tasks', 'aria-label': 'Tasks' });
  private readonly empty = h('p', { class: 'empty', hidden: true });
  private readonly more = h('button', { type: 'button', hidden: true }, 'Load more');
  private readonly deleteForm = this.deleteAccountForm();
  private readonly verifyBanner: VerifyBanner;

  constructor(
    private readonly api: ApiClient,
    private readonly go: TasksCallbacks,
  ) {
    this.more.addEventListener('click', () => void this.loadMore());
    this.verifyBanner = new VerifyBanner(api);
    this.categoriesPanel = new CategoriesPanel(api, async (notice) => {
      if (notice) this.announce(notice);
      await this.reload(this.items.length);
    });
    const createSection = this.createSection();
    const listSection = this.listSection();
    this.newTaskCategory = createSection.querySelector<HTMLSelectElement>('select[name=category_id]')!;
    this.categoryFilter = listSection.querySelector<HTMLSelectElement>('select[name=category]')!;
    this.element = h(
      'div',
      { class: 'tasks-screen' },
      h(
        'header',
        {},
        h('h1', { tabindex: -1 }, 'Your tasks'),
        this.who,
        h('div', { class: 'account' },
          h('button', { type: 'button', onclick: () => this.go.showAccount() }, 'Account'),
          h('button', { type: 'button', onclick: () => void this.logout() }, 'Log out'),
          h('button', { type: 'button', class: 'danger', onclick: () => this.askToDeleteAccount() }, 'Delete account'),
        ),
      ),
      this.verifyBanner.element,
      this.deleteForm,
      this.status,
      h('main', {}, createSection, this.categoriesPanel.element, listSection),
    );
  }

  /** Loads the profile and the first page together (two requests in parallel). */
  async load(): Promise<void> {
    this.listAlert.textContent = '';
    try {
      const [user, page, categories] = await Promise.all([
        this.api.me(),
        this.fetchPage(null, PAGE_SIZE),
        this.api.listCategories(),
      ]);
      this.user = user;
      this.who.textContent = `Signed in as ${user.name} (${user.email})`;
      this.verifyBanner.show(user);
      this.showCategories(categories);
      this.showPage(page, false);
    } catch (error) {
      this.showListError(error);
    }
  }

  // --- creating -------------------------------------------------------------------------------

  private createSection(): HTMLElement {
    const form = h(
      'form',
      { 'aria-labelledby': 'new-task-heading', novalidate: true, class: 'task-form' },
      ...taskFields({ title: '', description: null, priority: 'medium', due_date: null, category_id: null }, []),
      formAlert(),
      h('button', { type: 'submit' }, 'Add task'),
    );
    // The key of a create whose outcome is unknown (the client's own retries ran out): sending
    // the same input again repeats that create, so the API answers it instead of adding a
    // second task. Any other input is a new create with a new key.
    let unsettled: { body: string; key: string } | null = null;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void submit(form, async () => {
        const input = readTaskForm(form);
        const body = JSON.stringify(input);
        const key = unsettled?.body === body ? unsettled.key : newIdempotencyKey();
        unsettled = { body, key };
        let task: Task;
        try {
          task = await this.api.createTask(input, key);
          unsettled = null;
        } catch (error) {
          // Answered (4xx): the key was not taken, but a new try of other input needs a new one.
          if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 409) unsettled = null;
          throw error;
        }
        form.reset();
        this.announce(`Task "${task.title}" added.`);
        await this.reload(this.items.length + 1);
        control(form, 'title').focus();
      });
    });
    return h('section', { class: 'new-task' }, h('h2', { id: 'new-task-heading' }, 'New task'), form);
  }

  // --- listing ------------------------------------------------------------------------------

  private listSection(): HTMLElement {
    const filters = h(
      'form',
      { role: 'search', 'aria-label': 'Filter tasks', class: 'filters' },
      field({ name: 'completed', label: 'Status', options: [['', 'All'], ['false', 'Open'], ['true', 'Completed']] }),
      field({ name: 'priority', label: 'Priority', options: [['', 'Any'], ...PRIORITY_OPTIONS] }),
      field({ name: 'category', label: 'Category', options: [['', 'Any']] }),
      field({ name: 'overdue', label: 'Overdue only', type: 'checkbox' }),
      field({ name: 'q', label: 'Search titles', type: 'search' }),
      field({ name: 'sort', label: 'Sort by', options: SORT_OPTIONS }),
      h('button', { type: 'submit' }, 'Search'),
    );
    const apply = () => {
      this.filters = {
        completed: control(filters, 'completed').value as '' | 'true' | 'false',
        priority: control(filters, 'priority').value as '' | Priority,
        q: control(filters, 'q').value.trim(),
        category: control(filters, 'category').value,
        overdue: (control(filters, 'overdue') as HTMLInputElement).checked,
        sort: control(filters, 'sort').value as SortChoice,
      };
      // From the first page: a cursor is bound to its listing's filters and sort.
      void this.reload(PAGE_SIZE);
    };
    filters.addEventListener('submit', (event) => {
      event.preventDefault();
      apply();
    });
    control(filters, 'completed').addEventListener('change', apply);
    control(filters, 'priority').addEventListener('change', apply);
    control(filters, 'category').addEventListener('change', apply);
    control(filters, 'overdue').addEventListener('change', apply);
    control(filters, 'sort').addEventListener('change', apply);
    return h(
      'section',
      { 'aria-labelledby': 'list-heading' },
      h('h2', { id: 'list-heading' }, 'Tasks'),
      this.countsLine,
      h('button', { type: 'button', onclick: () => void this.load() }, 'Refresh'),
      filters,
      this.listAlert,
      this.list,
      this.empty,
      this.more,
    );
  }

  /** The listing's query; "Load more" sends the same with the cursor (cursors are bound to it). */
  private query(cursor: string | null, limit: number): TaskQuery {
    const [sort, order] = this.filters.sort.split('-') as [Sort, Order];
    return {
      completed: this.filters.completed === '' ? undefined : this.filters.completed === 'true',
      priority: this.filters.priority || undefined,
      q: this.filters.q || undefined,
      category: this.filters.category || undefined,
      overdue: this.filters.overdue || undefined,
      // The default order is left out, so the plain listing stays the plain URL.
      sort: this.filters.sort === 'created-desc' ? undefined : sort,
      order: this.filters.sort === 'created-desc' ? undefined : order,
      limit,
      cursor: cursor ?? undefined,
    };
  }

  private fetchPage(cursor: string | null, limit: number): Promise<TaskPage> {
    return this.api.listTasks(this.query(cursor, limit));
  }

  /**
   * Reloads from the first page, keeping about as many tasks as were on screen, and the
   * categories with it (their task counts follow every task write; a deleted one leaves the
   * filter).
   */
  private async reload(atLeast: number): Promise<void> {
    this.listAlert.textContent = '';
    try {
      const limit = Math.min(100, Math.max(PAGE_SIZE, atLeast));
      let page: TaskPage;
      if (this.filters.category !== '' && this.filters.category !== 'none') {
        // A filter naming a category that is gone would list nothing: drop it first.
        this.showCategories(await this.api.listCategories());
        page = await this.fetchPage(null, limit);
      } else {
        const [categories, first] = await Promise.all([this.api.listCategories(), this.fetchPage(null, limit)]);
        this.showCategories(categories);
        page = first;
      }
      this.showPage(page, false);
    } catch (error) {
      this.showListError(error);
    }
  }

  private async loadMore(): Promise<void> {
    if (!this.nextCursor) return;
    this.more.disabled = true;
    try {
      this.showPage(await this.fetchPage(this.nextCursor, PAGE_SIZE), true);
    } catch (error) {
      this.showListError(error);
    } finally {
      this.more.disabled = false;
    }
  }

  private showPage(page: TaskPage, append: boolean): void {
    this.items = append ? [...this.items, ...page.items] : page.items;
    this.nextCursor = page.next_cursor;
    this.counts = page.counts;
    this.render();
  }

  private render(): void {
    if (this.counts) {
      const { total, completed } = this.counts;
      this.countsLine.textContent = `${total} ${total === 1 ? 'task' : 'tasks'}, ${completed} completed, ${total - completed} open`;
    }
    const filtered =
      this.filters.completed !== '' ||
      this.filters.priority !== '' ||
      this.filters.q !== '' ||
      this.filters.category !== '' ||
      this.filters.overdue;
    this.empty.textContent = filtered ? 'No tasks match these filters.' : 'No tasks yet: add one above.';
    this.empty.hidden = this.items.length > 0;
    this.more.hidden = this.nextCursor === null;
    const now = Date.now();
    this.list.replaceChildren(
      ...this.items.map((task) => (task.id === this.editingId ? this.editor(task) : this.row(task, now))),
    );
  }

  private row(task: Task, now: number): HTMLElement {
    const overdue = isOverdue(task, now);
    const itemAlert = h('div', { class: 'form-error', role: 'alert' });
    const checkbox = h('input', {
      type: 'checkbox',
      checked: task.completed,
      'aria-label': `Completed: ${task.title}`,
    });
    checkbox.addEventListener('change', () => {
      void this.write(task, itemAlert, async () => {
        await this.api.updateTask(task, { completed: checkbox.checked });
        this.announce(`"${task.title}" marked ${checkbox.checked ? 'completed' : 'open'}.`);
      });
    });
    return h(
      'li',
      { class: task.completed ? 'task done' : overdue ? 'task overdue' : 'task', 'data-task-id': task.id },
      checkbox,
      h(
        'div',
        { class: 'body' },
        h('span', { class: 'title' }, task.title),
        ' ',
        h('span', { class: `priority priority-${task.priority}` }, `${capitalize(task.priority)} priority`),
        task.due_date && h('span', { class: 'due' }, ' · due ', h('time', { datetime: task.due_date }, formatDue(task.due_date))),
        // Said in words, not only by colour, so screen readers and colour-blind users get it.
        overdue && h('span', { class: 'overdue-badge' }, 'Overdue'),
        this.categoryBadge(task.category_id),
        task.description && h('p', { class: 'description' }, task.description),
        itemAlert,
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', 'aria-label': `Edit ${task.title}`, onclick: () => this.edit(task.id) }, 'Edit'),
        h('button', {
          type: 'button',
          class: 'danger',
          'aria-label': `Delete ${task.title}`,
          onclick: () => {
            if (!window.confirm(`Delete "${task.title}"?`)) return;
            void this.write(task, itemAlert, async () => {
              await this.api.deleteTask(task);
              this.announce(`Task "${task.title}" deleted.`);
            });
          },
        }, 'Delete'),
      ),
    );
  }

  // --- editing ------------------------------------------------------------------------------

  private edit(id: string | null, notice = ''): void {
    this.editingId = id;
    this.render();
    const form = this.list.querySelector<HTMLFormElement>('form');
    if (form && notice) {
      const alert = form.querySelector<HTMLElement>('.form-error');
      if (alert) alert.textContent = notice;
    }
    if (form) control(form, 'title').focus();
  }

  private editor(task: Task): HTMLElement {
    const fields = taskFields(task, this.categoriesPanel.categories);
    const form = editForm(`Edit task ${task.title}`, 'task-form', fields, () => this.edit(null), async (form) => {
      try {
        const saved = await this.api.updateTask(task, readTaskForm(form));
        this.editingId = null;
        this.announce(`Task "${saved.title}" saved.`);
        await this.reload(this.items.length);
      } catch (error) {
        const stale = staleMessage(task, error);
        if (!stale) throw error;
        // Someone else changed or deleted it since it was loaded: show what is there now,
        // never overwrite it.
        await this.reload(this.items.length);
        if (this.items.some((t) => t.id === task.id)) {
          this.edit(task.id, 'This task was changed elsewhere, so your edit was not saved. The form now shows the latest version.');
        } else {
          this.edit(null);
          this.listAlert.textContent = stale;
        }
      }
    });
    return h('li', { class: 'task editing', 'data-task-id': task.id }, form);
  }

  /** Runs a write on one task; then reloads, so counts and the list come from the server. */
  private async write(task: Task, alert: HTMLElement, action: () => Promise<void>): Promise<void> {
    let message = '';
    try {
      await action();
    } catch (error) {
      message = staleMessage(task, error) ?? messageOf(error);
      if (!staleMessage(task, error)) {
        alert.textContent = message;
        return;
      }
    }
    await this.reload(this.items.length);
    if (message) {
      // The rows were rebuilt by the reload: show the message on the task, or above the list.
      const row = this.list.querySelector(`[data-task-id="${task.id}"] .form-error`);
      if (row) row.textContent = message;
      else this.listAlert.textContent = message;
    }
  }

  // --- categories ---------------------------------------------------------------------------

  /** Shows `categories` in their panel and choosers (a gone category is no longer chosen). */
  private showCategories(categories: Category[]): void {
    this.categoriesPanel.show(categories);
    const options = categories.map((c) => [c.id, c.name] as const);
    fillOptions(this.categoryFilter, [['', 'Any'], ['none', 'No category'], ...options]);
    fillOptions(this.newTaskCategory, [['', 'None'], ...options]);
    this.filters.category = this.categoryFilter.value;
  }

  private categoryBadge(id: string | null): HTMLElement | null {
    const category = id === null ? undefined : this.categoriesPanel.categories.find((c) => c.id === id);
    if (!category) return null;
    return h('span', { class: 'task-category' }, ' · ', swatch(category.color), category.name);
  }

  // --- account ------------------------------------------------------------------------------

  private async logout(): Promise<void> {
    try {
      await this.api.logout();
      this.go.loggedOut('You have logged out.');
    } catch (error) {
      this.listAlert.textContent = messageOf(error);
    }
  }

  /**
   * The form that deletes the account: the API asks for the password again before it erases
   * anything (a session left open is not enough), so the user types it here.
   */
  private deleteAccountForm(): HTMLFormElement {
    const form = h(
      'form',
      { 'aria-label': 'Delete account', novalidate: true, hidden: true, class: 'delete-account' },
      h('p', { class: 'delete-warning' }),
      field({
        name: 'password',
        label: 'Your password, to confirm',
        type: 'password',
        required: true,
        autocomplete: 'current-password',
      }),
      formAlert(),
      h('button', { type: 'submit', class: 'danger' }, 'Delete account permanently'),
      h('button', { type: 'button', onclick: () => this.closeDeleteForm() }, 'Cancel'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void submit(form, async () => {
        await this.api.deleteAccount(control(form, 'password').value);
        // The refresh tokens died with the account; this just clears the now useless cookie.
        await this.api.logout().catch(() => {});
        this.go.loggedOut('Your account and all its tasks were deleted.');
      });
    });
    return form;
  }

  private askToDeleteAccount(): void {
    const email = this.user?.email ?? 'your account';
    this.deleteForm.querySelector('.delete-warning')!.textContent =
      `Delete ${email} and all of its tasks? This cannot be undone.`;
    this.deleteForm.hidden = false;
    control(this.deleteForm, 'password').focus();
  }

  private closeDeleteForm(): void {
    this.deleteForm.reset();
    this.deleteForm.hidden = true;
  }

  private showListError(error: unknown): void {
    if (error instanceof ApiError && error.status === 401) return; // the app shows the login screen
    this.listAlert.textContent = messageOf(error);
  }

  private announce(message: string): void {
    this.status.textContent = message;
  }
}

function taskFields(
  task: Pick<Task, 'title' | 'description' | 'priority' | 'due_date' | 'category_id'>,
  categories: readonly Category[],
): HTMLElement[] {
  const categoryOptions = [['', 'None'] as const, ...categories.map((c) => [c.id, c.name] as const)];
  return [
    field({ name: 'title', label: 'Title', value: task.title, required: true, maxlength: 255 }),
    field({ name: 'description', label: 'Description', value: task.description ?? '', multiline: true, maxlength: 2000 }),
    field({ name: 'priority', label: 'Priority', value: task.priority, options: PRIORITY_OPTIONS }),
    field({ name: 'due_date', label: 'Due date', type: 'date', value: task.due_date?.slice(0, 10) ?? '' }),
    field({ name: 'category_id', label: 'Category', value: task.category_id ?? '', options: categoryOptions }),
  ];
}

/**
 * Overdue as the API's `overdue=true` means it: due before now and not completed. A due date
 * picked in the form is midnight UTC of that day, so such a task is overdue from the start of
 * its day (UTC), as the filter lists it.
 */
function isOverdue(task: Task, now: number): boolean {
  return !task.completed && task.due_date !== null && Date.parse(task.due_date) < now;
}

/** The day of a due date (UTC, as the form stores it), with the time when it is not midnight. */
function formatDue(due: string): string {
  const iso = new Date(due).toISOString();
  const [day, time] = [iso.slice(0, 10), iso.slice(11, 16)];
  return time === '00:00' ? day : `${day} ${time} UTC`;
}

/** Replaces the options of a select, keeping its choice if that is still among them. */
function fillOptions(select: HTMLSelectElement, options: readonly (readonly [string, string])[]): void {
  const chosen = select.value;
  select.replaceChildren(...options.map(([value, label]) => h('option', { value }, label)));
  select.value = options.some(([value]) => value === chosen) ? chosen : '';
}

/** The writable fields of a task form; empty optional fields are `null` (cleared). */
function readTaskForm(form: HTMLFormElement): TaskInput {
  const description = control(form, 'description').value;
  const due = control(form, 'due_date').value;
  const category = control(form, 'category_id').value;
  return {
    title: control(form, 'title').value,
    description: description.trim() === '' ? null : description,
    priority: control(form, 'priority').value as Priority,
    // A calendar day, stored as midnight UTC (the API wants an RFC 3339 date-time).
    due_date: due === '' ? null : `${due}T00:00:00Z`,
    category_id: category === '' ? null : category,
  };
}

/** For a write refused because the task changed (412) or is gone (404): what to tell the user. */
function staleMessage(task: Task, error: unknown): string | null {
  if (!(error instanceof ApiError)) return null;
  if (error.status === 412) return `"${task.title}" was changed elsewhere; the list has been reloaded. Try again.`;
  if (error.status === 404) return `"${task.title}" no longer exists; the list has been reloaded.`;
  return null;
}

function messageOf(error: unknown): string {
  return error instanceof ApiError ? describe(error) : `Something went wrong: ${String(error)}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
