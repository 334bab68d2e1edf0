export { withSubjectPrefix } from '#contracts';
