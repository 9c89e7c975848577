/**
 * Hugging Face chat templates (Jinja), rendered byte-for-byte as transformers renders them.
 *
 * <p>Entry point: {@link jllm.template.ChatTemplate} ({@code compile} once, {@code render} many times);
 * failures of any kind are a {@link jllm.template.TemplateException} whose {@code kind()} names the
 * Python exception jinja2 would raise and whose message, for {@code raise_exception(msg)}, is the
 * template's own text.
 *
 * <h2>Why our own engine</h2>
 * Existing Java Jinja engines target Jinja-like HTML templating, not Python semantics. Measured on the
 * 343 reference cases of {@code shared/fixtures/chat-templates} (51 real templates x 7 conversations),
 * HubSpot Jinjava 2.7.4 configured with trim_blocks and lstrip_blocks got 123/343 (36%) right, even
 * counting any raised error as a match where jinja2 raised. The gaps are exactly what chat templates
 * lean on: Python str methods ({@code strip}, {@code split}, {@code startswith}, {@code format}),
 * {@code namespace()}, tojson key order/separators/{@code ensure_ascii=False}, Python printing of
 * {@code None}/{@code True}/floats/lists, slicing with negative steps, jinja2 scoping of {@code set}
 * inside loops, {@code raise_exception}, {@code Undefined} semantics, and sandbox behaviour
 * (refusing {@code list.append}). Pebble is further from jinja2 still (different filter set and
 * syntax details). So this package implements the subset of jinja2 3.1 that templates use, with
 * Python value semantics, and nothing else: no file system, imports, reflection or host objects.
 *
 * <h2>Layout</h2>
 * {@code Lexer} (whitespace control: {@code -}/{@code +} markers, trim_blocks, lstrip_blocks,
 * comments, raw blocks, the dropped trailing newline) -> {@code Parser} (jinja2's grammar and
 * precedence) -> {@code Node} (immutable syntax tree) -> {@code Interpreter} (scopes, loops,
 * macros, limits). Python semantics live in {@code Py} (truthiness, str/repr, equality, ordering),
 * {@code Ops} (operators, attribute/item lookup, the immutable sandbox), {@code Methods} and
 * {@code Strs} (str/dict/list methods), {@code Format} ({@code %}, {@code str.format},
 * {@code strftime}), {@code Json} ({@code json.dumps}), {@code Filters}, {@code Tests} and
 * {@code Builtins} (globals).
 *
 * <h2>Environment reproduced</h2>
 * transformers' {@code ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
 * extensions=[AssistantTracker, loopcontrols])}: {@code break}/{@code continue}, the
 * {@code generation} tag (renders its body), {@code tojson(x, ensure_ascii=False, indent=None,
 * separators=None, sort_keys=False)}, {@code raise_exception}, {@code strftime_now} (the context's
 * {@code now} replaces the clock), the sandbox's {@code range} cap and its refusal of mutating list
 * and dict methods and of {@code _}-prefixed attributes; autoescaping off, with markupsafe's
 * {@code Markup} behaviour for {@code safe}/{@code escape} results in {@code +} and {@code %}.
 *
 * <h2>How it is checked</h2>
 * Tests compare with Python jinja2 3.1.6 set up like transformers: the fixtures' reference renderings
 * of 51 real templates (343 cases, errors included, same texts) and the tokenizer configs' templates;
 * generated data committed with their generators under {@code tools/}: hand-written semantics cases,
 * the real templates over more conversations, seeded random expressions and random templates
 * (whitespace markers, scoping), and real templates with random edits. Where jinja2 raises, the engine
 * raises the same Python exception type with the same message, so template authors see the errors
 * transformers would show them.
 *
 * <h2>Untrusted templates</h2>
 * {@link jllm.template.Limits} caps the work (steps), the memory of the values built, the output, the
 * size of any one string or list, macro and recursive-loop depth and syntactic nesting; every operation
 * charges its cost to the render's {@code Budget} before it allocates or loops, so exceeding a limit
 * raises a {@code LimitError} (deep recursion a {@code RecursionError}), never a hang, an
 * OutOfMemoryError or a StackOverflowError. Renders run on a thread of their own with a known stack.
 * docs/template-sandbox.md lists the limits, their defaults and the tests that show each.
 *
 * <h2>Not supported</h2>
 * {@code include}/{@code import}/{@code extends}/{@code block} (a syntax error: chat templates are
 * single files), the {@code do} extension (transformers does not enable it), {@code cycler},
 * {@code lipsum}, and the filters {@code wordwrap}, {@code urlize}, {@code urlencode},
 * {@code filesizeformat}, {@code xmlattr} (they fail when reached). Unknown filters and tests are a
 * compile-time error except directly inside an if statement or conditional expression, where they
 * fail only when reached, exactly as in jinja2. jinja2's compile-time constant folding is not
 * reproduced (it only differs for failing operations on literals, such as slicing a number literal).
 * Python reprs of functions and generators (which contain memory addresses) cannot match and are not
 * attempted.
 */
package jllm.template;
