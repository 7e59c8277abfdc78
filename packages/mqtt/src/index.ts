export { topicMatches, topicFilterProblem } from './topic-filter.js'
