// The help of each command: commander's own, plus an "Exit codes:" section laid out as its option
// list is (same indent, same column, wrapped to the same width).
import { Help, type Command } from 'commander';
import { exitCodes, type ExitCodeName } from './exit-codes.js';

/** What each exit code of a command means for that command. */
export type ExitCodeMeanings = Partial<Record<ExitCodeName, string>>;

/** A `configureHelp()` setting that ends the help with the command's exit codes. */
export function helpWithExitCodes(meanings: ExitCodeMeanings): Partial<Help> {
  return {
    formatHelp(command: Command, helper: Help): string {
      const names = (Object.keys(meanings) as ExitCodeName[]).sort((a, b) => exitCodes[a] - exitCodes[b]);
      const termWidth = Math.max(helper.padWidth(command, helper), ...names.map((name) => String(exitCodes[name]).length));
      const items = names.map((name) => helper.formatItem(String(exitCodes[name]), termWidth, meanings[name] ?? '', helper));
      // commander's help ends with one newline; a blank line sets the section apart, as between its own.
      return `${Help.prototype.formatHelp.call(helper, command, helper)}\n${helper.formatItemList('Exit codes:', items, helper).join('\n')}\n`;
    },
  };
}
