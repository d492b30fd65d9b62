// @ts-check
// The console's words, Brazilian Portuguese first and English. `en` must have every key
// of `ptBR` (the type check fails otherwise); {name} placeholders are filled by t().

const ptBR = {
  "nav.label": "Navegação principal", "nav.board": "Funil", "nav.agenda": "Minha agenda", "nav.inbox": "Caixa de entrada",
  "nav.new_account": "Nova conta", "nav.imports": "Importar", "nav.audit": "Auditoria", "nav.sign_out": "Sair",
  "role.admin": "Administração", "role.manager": "Gestão", "role.sales": "Vendas", "role.support": "Suporte",
  "role.marketing": "Marketing", "role.auditor": "Auditoria", "role.integration": "Integração",
  "common.cancel": "Cancelar", "common.close": "Fechar",
  "error.unexpected": "Algo deu errado:", "error.not_found": "Página não encontrada",
  "sign_in.title": "Entrar no Nucleo", "sign_in.tenant": "Organização (ID)", "sign_in.tenant_hint": "ten_ seguido de 26 letras e números",
  "sign_in.email": "E-mail", "sign_in.password": "Senha", "sign_in.submit": "Entrar",
  "sign_in.wrong": "E-mail ou senha incorretos.",
  "search.label": "Busca", "search.placeholder": "Buscar contas, contatos, negócios…", "search.title": "Busca",
  "search.hint": "Digite um nome, CNPJ, e-mail ou telefone.", "search.results_for": "Resultados para “{q}”",
  "search.accounts": "Contas", "search.contacts": "Contatos", "search.deals": "Negócios", "search.nothing": "Nada encontrado.",
  "board.title": "Funil de vendas", "board.pipeline": "Funil", "board.no_pipelines": "Nenhum funil cadastrado ainda.",
  "board.open_deals": "{n} negócios abertos", "board.column_summary": "{n} negócios · {value}",
  "board.gated": "critérios", "board.more": "Carregar mais", "board.days_in_stage": "{n} dias na etapa",
  "board.move": "Mover", "board.move_named": "Mover {name}", "board.move_title": "Mover “{name}” para…",
  "board.moved": "“{name}” foi para {stage}.", "board.lost_reason": "Motivo da perda", "board.lost_title": "Por que o negócio foi perdido? ({stage})",
  "gate.title": "Critérios para entrar em {stage}", "gate.unmet": "Critérios não atendidos",
  "gate.explain": "O negócio ainda não atende aos critérios de entrada de {stage}:",
  "gate.override": "Mover mesmo assim", "gate.override_reason": "Justificativa (fica registrada na auditoria)",
  "gate.ask_manager": "Conclua os itens acima ou peça a um gestor para autorizar a exceção.",
  "deal.account": "Conta", "deal.stage": "Etapa", "deal.status": "Situação", "deal.amount": "Valor",
  "deal.expected_close": "Previsão de fechamento", "deal.activity": "Atividades", "deal.tasks": "Tarefas abertas",
  "deal.status_open": "Aberto", "deal.status_won": "Ganho", "deal.status_lost": "Perdido",
  "deal.new": "Novo negócio", "deal.name": "Nome", "deal.pipeline": "Funil", "deal.create": "Criar negócio", "deal.created": "Negócio criado.",
  "interaction.log": "Registrar atividade", "interaction.type": "Tipo", "interaction.subject": "Assunto",
  "interaction.body": "Anotações", "interaction.save": "Registrar", "interaction.logged": "Atividade registrada.",
  "interaction.call": "Ligação", "interaction.meeting": "Reunião", "interaction.visit": "Visita", "interaction.note": "Nota",
  "interaction.email": "E-mail", "interaction.whatsapp": "WhatsApp", "interaction.sms": "SMS",
  "interaction.complaint": "Reclamação", "interaction.feedback": "Feedback", "interaction.support": "Suporte",
  "interaction.proposal": "Proposta", "interaction.system": "Sistema",
  "task.new": "Nova tarefa", "task.title": "O que fazer", "task.due": "Prazo", "task.create": "Criar tarefa", "task.created": "Tarefa criada.",
  "account.legal_name": "Razão social", "account.trade_name": "Nome fantasia", "account.tax_id": "CNPJ / CPF",
  "account.lifecycle": "Ciclo de vida", "account.create": "Criar conta", "account.created": "Conta criada.",
  "account.briefing": "Resumo para a visita", "account.open_deals": "Negócios abertos", "account.no_open_deals": "Nenhum negócio aberto.",
  "account.contacts": "Contatos", "account.overdue": "{n} tarefa(s) em atraso", "account.timeline": "Linha do tempo",
  "account.stage_change": "{deal} entrou em {stage}", "account.task": "Tarefa",
  "lifecycle.lead": "Lead", "lifecycle.prospect": "Prospect", "lifecycle.customer": "Cliente", "lifecycle.churned": "Perdido",
  "contact.new": "Novo contato", "contact.name": "Nome", "contact.email": "E-mail", "contact.phone": "Telefone",
  "contact.job_title": "Cargo", "contact.create": "Adicionar contato", "contact.created": "Contato adicionado.",
  "panel.unavailable": "Indisponível:", "panel.empty": "Nada a mostrar.",
  "agenda.overdue": "Atrasadas ({n})", "agenda.upcoming": "Próximos 7 dias", "agenda.none": "Nada por aqui.",
  "agenda.complete": "Concluir", "agenda.complete_named": "Concluir {title}", "agenda.completed": "“{title}” concluída.",
  "agenda.approvals": "Aguardando sua aprovação", "agenda.truncated": "Há mais tarefas do que as mostradas.",
  "inbox.conversations": "Conversas", "inbox.thread": "Mensagens", "inbox.only_unanswered": "Só as sem resposta",
  "inbox.empty": "Nenhuma conversa.", "inbox.unanswered": "sem resposta", "inbox.reply": "Responder",
  "inbox.send": "Enviar", "inbox.sent": "Mensagem enviada para a fila.",
  "inbox.window_open": "Janela de {hours}h aberta até {until}: texto livre permitido.",
  "inbox.window_closed": "Janela de {hours}h fechada: só modelos aprovados podem ser enviados.",
  "imports.file": "Arquivo (CSV ou JSONL)", "imports.mapping": "Mapeamento (JSON)", "imports.encoding": "Codificação",
  "imports.dry_run": "Simular (nada é gravado)", "imports.start": "Importar", "imports.recent": "Importações recentes",
  "imports.when": "Quando", "imports.status": "Situação", "imports.rows": "Linhas", "imports.failed": "Com erro",
  "imports.open": "Acompanhar", "imports.import": "Importação", "imports.progress": "Progresso",
  "imports.counts": "{done} linhas lidas: {created} criadas, {updated} atualizadas, {failed} com erro",
  "imports.rate": "{rate} linhas/s, faltam ~{eta} s", "imports.errors": "Baixar relatório de erros (CSV)", "imports.cancel": "Cancelar importação",
  "imports.status_queued": "Na fila", "imports.status_running": "Em andamento", "imports.status_done": "Concluída",
  "imports.status_failed": "Falhou", "imports.status_cancelled": "Cancelada",
  "audit.entity_type": "Tipo de registro", "audit.entity_id": "ID do registro", "audit.action": "Ação", "audit.actor": "Autor",
  "audit.from": "De", "audit.to": "Até", "audit.filter": "Filtrar", "audit.export": "Exportar:",
  "audit.seq": "Nº", "audit.when": "Quando", "audit.record": "Registro", "audit.proof": "Prova",
  "audit.verify": "Verificar prova", "audit.checking": "Verificando…",
  "audit.checkpoint": "Último checkpoint assinado: {size} eventos ({origin}).",
  "audit.no_checkpoint": "Nenhum checkpoint assinado ainda: as provas levam à árvore atual.",
  "audit.leaf_mismatch": "o evento não corresponde ao hash registrado",
  "audit.proof_invalid": "a prova não leva à raiz esperada",
  "audit.verified_checkpoint": "Verificada no navegador até o checkpoint assinado de {size} eventos",
  "audit.verified_tree": "Verificada no navegador até a árvore de {size} eventos (ainda sem checkpoint)",
  "audit.history_of": "Histórico de {type} {id}", "audit.as_of": "Como estava em", "audit.show": "Mostrar",
  "audit.record_then": "O registro naquele momento", "audit.not_yet": "O registro ainda não existia.",
  "audit.field": "Campo", "audit.before": "Antes", "audit.after": "Depois",
};

/** @type {Record<keyof typeof ptBR, string>} */
const en = {
  "nav.label": "Main navigation", "nav.board": "Pipeline", "nav.agenda": "My agenda", "nav.inbox": "Inbox",
  "nav.new_account": "New account", "nav.imports": "Import", "nav.audit": "Audit", "nav.sign_out": "Sign out",
  "role.admin": "Admin", "role.manager": "Manager", "role.sales": "Sales", "role.support": "Support",
  "role.marketing": "Marketing", "role.auditor": "Auditor", "role.integration": "Integration",
  "common.cancel": "Cancel", "common.close": "Close",
  "error.unexpected": "Something went wrong:", "error.not_found": "Page not found",
  "sign_in.title": "Sign in to Nucleo", "sign_in.tenant": "Organisation (ID)", "sign_in.tenant_hint": "ten_ followed by 26 letters and digits",
  "sign_in.email": "E-mail", "sign_in.password": "Password", "sign_in.submit": "Sign in",
  "sign_in.wrong": "Wrong e-mail or password.",
  "search.label": "Search", "search.placeholder": "Search accounts, contacts, deals…", "search.title": "Search",
  "search.hint": "Type a name, tax id, e-mail or phone.", "search.results_for": "Results for “{q}”",
  "search.accounts": "Accounts", "search.contacts": "Contacts", "search.deals": "Deals", "search.nothing": "Nothing found.",
  "board.title": "Sales pipeline", "board.pipeline": "Pipeline", "board.no_pipelines": "No pipeline yet.",
  "board.open_deals": "{n} open deals", "board.column_summary": "{n} deals · {value}",
  "board.gated": "criteria", "board.more": "Load more", "board.days_in_stage": "{n} days in stage",
  "board.move": "Move", "board.move_named": "Move {name}", "board.move_title": "Move “{name}” to…",
  "board.moved": "“{name}” moved to {stage}.", "board.lost_reason": "Why it was lost", "board.lost_title": "Why was the deal lost? ({stage})",
  "gate.title": "Criteria to enter {stage}", "gate.unmet": "Unmet criteria",
  "gate.explain": "The deal does not meet the entry criteria of {stage} yet:",
  "gate.override": "Move anyway", "gate.override_reason": "Reason (kept in the audit trail)",
  "gate.ask_manager": "Finish the items above or ask a manager to approve an exception.",
  "deal.account": "Account", "deal.stage": "Stage", "deal.status": "Status", "deal.amount": "Amount",
  "deal.expected_close": "Expected close", "deal.activity": "Activity", "deal.tasks": "Open tasks",
  "deal.status_open": "Open", "deal.status_won": "Won", "deal.status_lost": "Lost",
  "deal.new": "New deal", "deal.name": "Name", "deal.pipeline": "Pipeline", "deal.create": "Create deal", "deal.created": "Deal created.",
  "interaction.log": "Log activity", "interaction.type": "Type", "interaction.subject": "Subject",
  "interaction.body": "Notes", "interaction.save": "Log", "interaction.logged": "Activity logged.",
  "interaction.call": "Call", "interaction.meeting": "Meeting", "interaction.visit": "Visit", "interaction.note": "Note",
  "interaction.email": "E-mail", "interaction.whatsapp": "WhatsApp", "interaction.sms": "SMS",
  "interaction.complaint": "Complaint", "interaction.feedback": "Feedback", "interaction.support": "Support",
  "interaction.proposal": "Proposal", "interaction.system": "System",
  "task.new": "New task", "task.title": "What to do", "task.due": "Due", "task.create": "Create task", "task.created": "Task created.",
  "account.legal_name": "Legal name", "account.trade_name": "Trade name", "account.tax_id": "Tax id (CNPJ / CPF)",
  "account.lifecycle": "Lifecycle", "account.create": "Create account", "account.created": "Account created.",
  "account.briefing": "Visit briefing", "account.open_deals": "Open deals", "account.no_open_deals": "No open deals.",
  "account.contacts": "Contacts", "account.overdue": "{n} overdue task(s)", "account.timeline": "Timeline",
  "account.stage_change": "{deal} entered {stage}", "account.task": "Task",
  "lifecycle.lead": "Lead", "lifecycle.prospect": "Prospect", "lifecycle.customer": "Customer", "lifecycle.churned": "Churned",
  "contact.new": "New contact", "contact.name": "Name", "contact.email": "E-mail", "contact.phone": "Phone",
  "contact.job_title": "Job title", "contact.create": "Add contact", "contact.created": "Contact added.",
  "panel.unavailable": "Unavailable:", "panel.empty": "Nothing to show.",
  "agenda.overdue": "Overdue ({n})", "agenda.upcoming": "Next 7 days", "agenda.none": "Nothing here.",
  "agenda.complete": "Complete", "agenda.complete_named": "Complete {title}", "agenda.completed": "“{title}” completed.",
  "agenda.approvals": "Waiting for your approval", "agenda.truncated": "There are more tasks than shown.",
  "inbox.conversations": "Conversations", "inbox.thread": "Messages", "inbox.only_unanswered": "Unanswered only",
  "inbox.empty": "No conversations.", "inbox.unanswered": "unanswered", "inbox.reply": "Reply",
  "inbox.send": "Send", "inbox.sent": "Message queued.",
  "inbox.window_open": "{hours}h window open until {until}: free text allowed.",
  "inbox.window_closed": "{hours}h window closed: only approved templates can be sent.",
  "imports.file": "File (CSV or JSONL)", "imports.mapping": "Mapping (JSON)", "imports.encoding": "Encoding",
  "imports.dry_run": "Dry run (nothing is written)", "imports.start": "Import", "imports.recent": "Recent imports",
  "imports.when": "When", "imports.status": "Status", "imports.rows": "Rows", "imports.failed": "Failed",
  "imports.open": "Follow", "imports.import": "Import", "imports.progress": "Progress",
  "imports.counts": "{done} rows read: {created} created, {updated} updated, {failed} failed",
  "imports.rate": "{rate} rows/s, ~{eta} s left", "imports.errors": "Download the error report (CSV)", "imports.cancel": "Cancel import",
  "imports.status_queued": "Queued", "imports.status_running": "Running", "imports.status_done": "Done",
  "imports.status_failed": "Failed", "imports.status_cancelled": "Cancelled",
  "audit.entity_type": "Record type", "audit.entity_id": "Record id", "audit.action": "Action", "audit.actor": "Actor",
  "audit.from": "From", "audit.to": "To", "audit.filter": "Filter", "audit.export": "Export:",
  "audit.seq": "No.", "audit.when": "When", "audit.record": "Record", "audit.proof": "Proof",
  "audit.verify": "Verify proof", "audit.checking": "Checking…",
  "audit.checkpoint": "Latest signed checkpoint: {size} events ({origin}).",
  "audit.no_checkpoint": "No signed checkpoint yet: proofs lead to the current tree.",
  "audit.leaf_mismatch": "the event does not match its recorded hash",
  "audit.proof_invalid": "the proof does not lead to the expected root",
  "audit.verified_checkpoint": "Verified in the browser up to the signed checkpoint of {size} events",
  "audit.verified_tree": "Verified in the browser up to the tree of {size} events (no checkpoint yet)",
  "audit.history_of": "History of {type} {id}", "audit.as_of": "As it was on", "audit.show": "Show",
  "audit.record_then": "The record at that time", "audit.not_yet": "The record did not exist yet.",
  "audit.field": "Field", "audit.before": "Before", "audit.after": "After",
};

/** @typedef {keyof typeof ptBR} Key */
/** @typedef {"pt-BR" | "en"} Language */

const languageKey = "nucleo.language";

/** @returns {Language} */
export function language() {
  return localStorage.getItem(languageKey) === "en" ? "en" : "pt-BR";
}

/** @param {Language} lang */
export function setLanguage(lang) {
  localStorage.setItem(languageKey, lang);
}

/**
 * @param {Key} key
 * @param {Record<string, string | number>} [values]
 */
export function t(key, values = {}) {
  const text = (language() === "en" ? en : ptBR)[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}
