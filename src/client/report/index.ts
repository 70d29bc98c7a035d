/** The morning report: collect it from a workspace, render it as Markdown, HTML or JSON. */
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { ReportData, ReportFormat } from './model.js';

export { buildReport, type BuildInput } from './build.js';
export { collectReport, readEvents, redactDeep, reportRedactor, type CollectInput } from './collect.js';
export { gradeToPoints, pointsToGrade } from './grades.js';
export * from './model.js';
export { renderHtml, renderMarkdown };

export function renderReport(data: ReportData, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(data, null, 2)}\n`;
    case 'md':
      return renderMarkdown(data);
    case 'html':
      return renderHtml(data);
  }
}
